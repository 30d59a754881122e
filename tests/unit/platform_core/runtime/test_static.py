"""Static folders of a built frontend, served from disk."""

import asyncio
import os

import pytest

from platform_core.runtime.static import IMMUTABLE, static_files


@pytest.fixture
def app(tmp_path):
    (tmp_path / ".next" / "static" / "chunks").mkdir(parents=True)
    (tmp_path / ".next" / "static" / "chunks" / "a1b2.js").write_text("x=1")
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "logo.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("no")
    os.symlink(tmp_path / "secret.txt", tmp_path / "public" / "link.txt")
    return static_files(
        [("/_next/static/", ".next/static", True), ("/", "public", False)],
        tmp_path,
        "production",
    )


def serve(files, path: str, method: str = "GET"):
    sent = []

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": "/shop" + path,
        "raw_path": ("/shop" + path).encode(),
        "root_path": "/shop",
    }
    served = asyncio.run(files.serve(scope, send))
    return served, sent


def test_build_files_are_served_with_their_cache_policy(app):
    served, sent = serve(app, "/_next/static/chunks/a1b2.js")
    headers = dict(sent[0]["headers"])
    assert served and sent[0]["status"] == 200 and sent[1]["body"] == b"x=1"
    assert headers[b"cache-control"] == IMMUTABLE
    assert headers[b"content-type"].startswith(b"text/javascript")
    served, sent = serve(app, "/logo.svg", "HEAD")
    assert served and sent[1]["body"] == b""
    assert dict(sent[0]["headers"])[b"content-length"] == b"6"


@pytest.mark.parametrize(
    "path",
    [
        "/missing.png",  # no such file: Node answers
        "/",  # a page
        "/_next/static/chunks/",  # a folder
        "/_next/static/../../secret.txt",  # traversal: the proxy refuses it
        "/_next/static/%2e%2e/%2e%2e/secret.txt",
        "/link.txt",  # a link out of the folder
    ],
)
def test_anything_else_is_left_to_the_proxy(app, path):
    assert serve(app, path) == (False, [])


def test_posts_and_development_mode_are_never_served(app, tmp_path):
    assert serve(app, "/logo.svg", "POST") == (False, [])
    dev = static_files([("/", "public", False)], tmp_path, "development")
    assert serve(dev, "/logo.svg") == (False, [])
