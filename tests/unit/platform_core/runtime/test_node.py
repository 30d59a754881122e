"""Where a frontend finds the platform (JOULE_URL) and when it is rebuilt."""

from __future__ import annotations

from pathlib import Path

import pytest

from platform_core.runtime import node


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 8000, "http://127.0.0.1:8000"),
        ("0.0.0.0", 9000, "http://127.0.0.1:9000"),
        ("", 80, "http://127.0.0.1:80"),
        ("::1", 8000, "http://[::1]:8000"),
        ("localhost", 8001, "http://localhost:8001"),
    ],
)
def test_loopback_url_replaces_wildcard_hosts(host, port, expected):
    assert node.loopback_url(host, port) == expected


def test_platform_url_is_joule_url_without_its_trailing_slash(monkeypatch):
    monkeypatch.setenv("JOULE_URL", "https://shop.example/")
    assert node.platform_url() == "https://shop.example"


def test_platform_url_defaults_to_the_configured_server(monkeypatch):
    monkeypatch.delenv("JOULE_URL", raising=False)
    assert node.platform_url() == "http://127.0.0.1:8000"


def test_node_env_tells_the_app_where_the_platform_is(monkeypatch):
    monkeypatch.setenv("JOULE_URL", "http://127.0.0.1:8123")
    env = node.node_env(3100, "/shop", "production", Path("/app"))
    assert (env["JOULE_URL"], env["BASE_PATH"], env["PORT"]) == (
        "http://127.0.0.1:8123",
        "/shop",
        "3100",
    )


def test_a_new_base_path_needs_a_new_build(tmp_path):
    (tmp_path / node.STAMP_FILE).write_text(node.build_signature("npm run build", "/a"))
    assert not node.needs_build(tmp_path, "npm run build", "/a")
    assert node.needs_build(tmp_path, "npm run build", "/b")
