"""``[server] https`` and ``trusted_proxies`` in a real process: what
``manage.py check --deploy`` says, and the settings they turn on."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import ROOT

HTTPS_WARNINGS = ("security.W004", "security.W008", "security.W012", "security.W016")
SHOW_SETTINGS = (
    "import json; from django.conf import settings as s; print(json.dumps({k: "
    "getattr(s, k) for k in ('SECURE_SSL_REDIRECT', 'SESSION_COOKIE_SECURE', "
    "'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', "
    "'SECURE_PROXY_SSL_HEADER', 'SECURE_REDIRECT_EXEMPT')}))"
)


def manage(root: Path, server_toml: str, *args: str) -> subprocess.CompletedProcess:
    """Run manage.py on a project whose joule.toml has ``[server] server_toml``."""
    (root / "joule.toml").write_text(f"[server]\n{server_toml}\n")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        JOULE_ROOT=str(root),
        JOULE_SECRET_KEY=secrets.token_urlsafe(50),
        JOULE_DEBUG="0",
    )
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_has_no_https_warnings_with_https_on(tmp_path):
    result = manage(tmp_path, "https = true", "check", "--deploy")
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert [w for w in HTTPS_WARNINGS if w in output] == []


def test_check_deploy_warns_about_each_without_https(tmp_path):
    result = manage(tmp_path, "", "check", "--deploy")
    output = result.stdout + result.stderr
    assert [w for w in HTTPS_WARNINGS if w in output] == list(HTTPS_WARNINGS)


def test_start_check_passes_with_https_on(tmp_path):
    result = manage(tmp_path, "https = true", "start", "--check")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        pytest.param(
            "https = true",
            {
                "SECURE_SSL_REDIRECT": True,
                "SESSION_COOKIE_SECURE": True,
                "CSRF_COOKIE_SECURE": True,
                "SECURE_HSTS_SECONDS": 31_536_000,
                "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
                "SECURE_PROXY_SSL_HEADER": None,
                "SECURE_REDIRECT_EXEMPT": [r"^_joule/(health|ready)$"],
            },
            id="https",
        ),
        pytest.param(
            'https = true\ntrusted_proxies = ["10.0.0.0/8"]',
            {"SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"]},
            id="behind-a-proxy",
        ),
        pytest.param(
            "",
            {
                "SECURE_SSL_REDIRECT": False,
                "SESSION_COOKIE_SECURE": False,
                "SECURE_HSTS_SECONDS": 0,
                "SECURE_PROXY_SSL_HEADER": None,
            },
            id="defaults",
        ),
    ],
)
def test_server_keys_become_django_settings(tmp_path, server, expected):
    result = manage(tmp_path, server, "shell", "-c", SHOW_SETTINGS)
    assert result.returncode == 0, result.stderr
    settings = json.loads(result.stdout.strip().splitlines()[-1])
    assert {key: settings[key] for key in expected} == expected
