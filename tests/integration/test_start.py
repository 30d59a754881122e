"""``manage.py start``: migrate once under a lock, then gunicorn; one Node
process per frontend whatever the number of workers, gone after SIGTERM."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from platform_core.testing import skip_or_fail
from tests.databases import fresh_database
from tests.servers import (
    ROOT,
    environment,
    free_port,
    groups_alive,
    node_processes,
    production_project,
    spawn_manage,
    wait_for,
)

MANAGE = str(ROOT / "manage.py")


@pytest.fixture
def project(tmp_path):
    """A project of two db services, a Django app and an Express frontend."""
    return production_project(tmp_path)


def manage(project: Path, env: dict, *args: str, timeout: float = 120):
    return subprocess.run(
        [sys.executable, str(project / "manage.py"), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_start_migrates_a_fresh_postgresql_database_and_serves_everything(
    project, tmp_path
):
    if shutil.which("npm") is None:
        skip_or_fail("node and npm are needed to run the Express frontend")
    with fresh_database("postgresql", tmp_path) as database:
        port = free_port()
        env = environment(
            project, database, JOULE_BIND=f"127.0.0.1:{port}", JOULE_WORKERS="2"
        )
        server = spawn_manage(project, env, "start", log=tmp_path / "server.log")
        url = f"http://127.0.0.1:{port}"
        app = (ROOT / "proxied_frontends/legacy-express").resolve()
        try:
            wait_for(url, server)
            assert httpx.get(url + "/admin/login/").status_code == 200
            assert httpx.get(url + "/products/products").json() == []
            assert httpx.get(url + "/legacy-api/health").status_code == 200
            # One Node process for two workers, seen from another process too.
            groups = node_processes(app, server.pid)
            assert len(groups) == 1
            services = manage(project, env, "services").stdout
            assert re.search(r"legacy-express +frontend +/legacy-api +ready", services)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        assert server.returncode == 0
        assert groups_alive(groups) == []  # stopped with the master


def test_replicas_starting_together_migrate_once(project, tmp_path):
    (project / "joule.toml").write_text('[logging]\nlevel = "INFO"\n')
    with fresh_database("postgresql", tmp_path) as database:
        env = environment(project, database)
        starts = [
            subprocess.Popen(
                [sys.executable, str(project / "manage.py"), "start", "--migrate-only"],
                cwd=project,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        outputs = [start.communicate(timeout=180) for start in starts]
        assert [start.returncode for start in starts] == [0, 0, 0], outputs
        applied = "".join(err for _, err in outputs)
        assert applied.count("Applying auth.0001_initial... OK") == 1
        assert "No migrations to apply." in applied


def test_every_line_the_production_server_writes_is_json(project, tmp_path):
    (project / "joule.toml").write_text('[logging]\nlevel = "INFO"\n')
    port = free_port()
    env = environment(
        project,
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        JOULE_BIND=f"127.0.0.1:{port}",
        JOULE_WORKERS="2",
    )
    (project / "services" / "legacy-express").unlink()  # no Node needed here
    out, err = tmp_path / "out.log", tmp_path / "err.log"
    server = spawn_manage(project, env, "start", log=err, stdout=out)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url, server)
        for _ in range(3):
            httpx.get(url + "/hello/", headers={"X-Request-Id": "one-of-three"})
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    lines = out.read_text().splitlines() + err.read_text().splitlines()
    records = [json.loads(line) for line in lines]  # each line is one object
    loggers = {record["logger"] for record in records}
    assert {"joule.migrate", "gunicorn.error", "joule.request"} <= loggers
    accesses = [r for r in records if r.get("request_id") == "one-of-three"]
    assert len(accesses) == 3  # each request logged once


def test_start_check_fails_on_a_platform_error(project, tmp_path):
    env = environment(project, f"sqlite:///{tmp_path / 'db.sqlite3'}")
    env.update(JOULE_SECRET_KEY="k" * 64, JOULE_DEBUG="0")
    assert manage(project, env, "start", "--check").returncode == 0
    broken = project / "services" / "broken"
    broken.mkdir()
    (broken / "service.toml").write_text('kind = "wsgi"\napp = "nowhere.app:app"\n')
    result = manage(project, env, "start", "--check")
    assert result.returncode == 1
    assert "joule.E005" in result.stderr


def test_sigterm_to_runserver_stops_its_frontends_and_its_child(project, tmp_path):
    if shutil.which("npm") is None:
        skip_or_fail("node and npm are needed to run the Express frontend")
    (project / "joule.toml").write_text('[logging]\nlevel = "INFO"\n')
    port = free_port()
    env = environment(project, f"sqlite:///{tmp_path / 'db.sqlite3'}")
    server = spawn_manage(
        project, env, "runserver", str(port), log=tmp_path / "server.log"
    )
    url = f"http://127.0.0.1:{port}"
    app = (ROOT / "proxied_frontends/legacy-express").resolve()
    try:
        wait_for(url, server)
        assert httpx.get(url + "/legacy-api/health").status_code == 200
        log = tmp_path / "server.log"
        deadline = time.monotonic() + 10
        while "GET /legacy-api/health 200" not in log.read_text():
            assert time.monotonic() < deadline, "the request was not logged"
            time.sleep(0.05)
        groups = node_processes(app, server.pid)
        assert len(groups) == 1
        server.send_signal(signal.SIGTERM)  # the outer process only
        server.wait(timeout=30)
        deadline = time.monotonic() + 10
        while groups_alive(groups) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert groups_alive(groups) == []
        with pytest.raises(httpx.TransportError):
            httpx.get(url + "/_joule/health", timeout=2)
        written = log.read_text()
        assert written.count("GET /legacy-api/health 200") == 1  # logged once
        assert all(line.startswith("{") for line in written.splitlines())
    finally:
        os.killpg(server.pid, signal.SIGKILL) if server.poll() is None else None
