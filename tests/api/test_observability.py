"""Request ids and JSON logs: one line per event with service and request id."""

import io
import json
import logging
import logging.config
import os
import subprocess
import sys
from pathlib import Path

import pytest

from platform_core.config.types import LoggingConfig
from platform_core.observability.logs import build_logging
from platform_core.testing import platform_client, project_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def client():
    with platform_client() as client:
        yield client


@pytest.mark.parametrize("path", ["/hello/", "/legacy/hello", "/_joule/health"])
def test_a_request_id_is_generated_for_every_path(client, path):
    request_id = client.get(path).headers["x-request-id"]
    assert len(request_id) == 32 and int(request_id, 16) >= 0


@pytest.mark.parametrize("path", ["/hello/", "/legacy/hello"])
def test_a_sane_client_request_id_is_kept(client, path):
    response = client.get(path, headers={"X-Request-Id": "client-id.1:2"})
    assert response.headers["x-request-id"] == "client-id.1:2"


@pytest.mark.parametrize("bad", ["has space", "x" * 129, "a/b", "<script>"])
def test_an_unsafe_client_request_id_is_replaced(client, bad):
    response = client.get("/hello/", headers={"X-Request-Id": bad})
    assert response.headers["x-request-id"] != bad
    assert len(response.headers["x-request-id"]) == 32


def test_the_view_sees_the_request_id(client):
    response = client.get("/hello/", headers={"X-Request-Id": "abc"})
    assert response.json()["requestId"] == "abc"


def test_json_formatter_writes_one_object_per_line():
    stream = io.StringIO()
    config = build_logging(LoggingConfig(level="INFO", format="json"))
    config["handlers"]["console"]["stream"] = stream
    logging.config.dictConfig(config)
    try:
        logging.getLogger("joule.test").info("hello %s", "world", extra={"n": 1})
    finally:
        from django.conf import settings

        logging.config.dictConfig(settings.LOGGING)
    line = json.loads(stream.getvalue().strip())
    assert line["message"] == "hello world"
    assert line["level"] == "INFO" and line["logger"] == "joule.test"
    assert line["n"] == 1 and "time" in line
    assert line["service"] is None and line["request_id"] is None


def test_access_log_lines_carry_service_and_request_id(tmp_path):
    project = project_of(tmp_path, ROOT / "services", ["legacy"], "INFO")
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "inject",
            "legacy",
            "GET",
            "/hello",
            "-i",
            "-H",
            "X-Request-Id: log-test-1",
        ],
        cwd=ROOT,
        env={**os.environ, "JOULE_ROOT": str(project)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = [
        json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")
    ]
    assert lines, result.stderr
    access = [line for line in lines if line["logger"] == "joule.request"]
    assert access == [
        {
            "time": access[0]["time"],
            "level": "INFO",
            "logger": "joule.request",
            "message": "GET /legacy/hello 200",
            "method": "GET",
            "path": "/legacy/hello",
            "status": 200,
            "duration_ms": access[0]["duration_ms"],
            "service": "legacy",
            "request_id": "log-test-1",
        }
    ]
    assert "x-request-id: log-test-1" in result.stdout
