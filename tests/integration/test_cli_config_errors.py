"""A configuration mistake stops manage.py with a message, never a traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

MANAGE = Path(__file__).resolve().parents[2] / "manage.py"


def run_manage(root, *args):
    env = {"JOULE_ROOT": str(root), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, str(MANAGE), *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def project(tmp_path, joule="", **services):
    (tmp_path / "joule.toml").write_text(joule)
    for folder, text in services.items():
        (tmp_path / "services" / folder).mkdir(parents=True)
        (tmp_path / "services" / folder / "service.toml").write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("joule", "services", "message"),
    [
        (
            "",
            {"shop": 'kind = "servce"'},
            "services/shop/service.toml: kind: 'servce' is not one of db, service, "
            "gateway, frontend, wsgi. Did you mean 'service'?",
        ),
        (
            "entrypiont = 'shop'",
            {"shop": 'kind = "service"'},
            "joule.toml: entrypiont: unknown key. Allowed keys here: entrypoint, "
            "server, logging, database, channels, graphql. Did you mean 'entrypoint'?",
        ),
        (
            "[server]\nport = 'eighty'",
            {},
            "joule.toml: server.port: expected an integer, got 'eighty'",
        ),
        (
            "",
            {"shop": 'kind = "service"\nprefix = "shop/"'},
            "services/shop/service.toml: prefix: 'shop/' must be a path like '/orders'",
        ),
        ("", {"shop": "kind = "}, "services/shop/service.toml: invalid TOML"),
    ],
)
def test_config_mistake_is_reported_without_traceback(
    tmp_path, joule, services, message
):
    result = run_manage(project(tmp_path, joule, **services), "check")
    assert result.returncode == 1
    assert f"Configuration error: {message}" in result.stderr
    assert "Traceback" not in result.stderr


def test_valid_project_passes_check(tmp_path):
    result = run_manage(project(tmp_path, "", shop='kind = "service"'), "check")
    assert result.returncode == 0, result.stderr
