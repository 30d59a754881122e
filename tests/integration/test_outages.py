"""Databases that freeze, stop or run slow: the other services keep answering.

A throwaway PostgreSQL cluster (initdb on a free port) is frozen with
SIGSTOP or stopped with pg_ctl; the machine's shared servers are never
touched. Requests to it get JSON 503/504 within its timeouts, a healthy
service on another database answers as fast as ever, /_joule/ready says
503 naming it within a few seconds, and it serves again, without a restart,
once it is back.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import connections

from platform_core.config.loader import load_config
from platform_core.config.services import DbOptions
from platform_core.config.types import ServiceSpec
from platform_core.db.connections import (
    Timeouts,
    alias_for,
    database_settings,
    databases,
)
from platform_core.exceptions import ConfigError
from platform_core.gateway.routing.asgi import build_application
from platform_core.registry import services
from platform_core.testing import (
    ASGIThreadTransport,
    register_temporarily,
    skip_or_fail,
)
from tests.databases import fresh_database
from tests.servers import free_port

ITEMS = "CREATE TABLE items (id SERIAL PRIMARY KEY, name VARCHAR(50) NOT NULL)"
FAST = 1.0  # seconds a healthy service's answer may take meanwhile


def _postgres_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return found


class ThrowawayPostgres:
    """A PostgreSQL cluster of the test's own, on a free loopback port."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self.url = f"postgres://postgres@127.0.0.1:{port}/postgres"
        self.frozen: list[int] = []

    def run(self, *args: str) -> None:
        command = list(args)
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            skip_or_fail(f"{args[0]} failed: {done.stderr or done.stdout}")

    def start(self) -> None:
        options = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1 "
            "-c unix_socket_directories='' -c fsync=off"
        )
        self.run(
            _postgres_bin("pg_ctl"),
            "start",
            "-w",
            "-D",
            str(self.folder / "data"),
            "-l",
            str(self.folder / "postgres.log"),
            "-o",
            options,
        )

    def stop(self) -> None:
        self.run(
            _postgres_bin("pg_ctl"),
            "stop",
            "-m",
            "fast",
            "-D",
            str(self.folder / "data"),
        )

    def freeze(self) -> None:
        """Stop every process of the cluster with SIGSTOP (they keep sockets)."""
        first = (self.folder / "data" / "postmaster.pid").read_text().split()[0]
        postmaster = int(first)
        os.kill(postmaster, signal.SIGSTOP)  # first: it forks no more
        self.frozen = [postmaster]
        for child in _children(postmaster):
            os.kill(child, signal.SIGSTOP)
            self.frozen.append(child)

    def thaw(self) -> None:
        for pid in reversed(self.frozen):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self.frozen = []


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    """Yield a started cluster of the test's own; stop and remove it after."""
    if _postgres_bin("initdb") is None or _postgres_bin("pg_ctl") is None:
        skip_or_fail("initdb and pg_ctl are needed for a throwaway PostgreSQL")
    folder = Path(tempfile.mkdtemp(prefix="joule-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    cluster = ThrowawayPostgres(folder, free_port())
    initdb = _postgres_bin("initdb")
    cluster.run(
        initdb, "-D", str(folder / "data"), "-A", "trust", "-U", "postgres", "-N"
    )
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.thaw()
        with contextlib.suppress(BaseException):
            cluster.run(
                _postgres_bin("pg_ctl"),
                "stop",
                "-m",
                "immediate",
                "-D",
                str(folder / "data"),
            )
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def only_services(*specs: ServiceSpec) -> Iterator[None]:
    """Register ``specs`` alone for the block (readiness asks these only)."""
    aside = list(services)
    entrypoint = services.entrypoint
    for spec in aside:
        services.unregister(spec.id)
    try:
        with contextlib.ExitStack() as stack:
            for spec in specs:
                stack.enter_context(register_temporarily(spec))
            yield
    finally:
        for spec in aside:
            services.register(spec, entrypoint=spec is entrypoint)


@contextlib.contextmanager
def db_service_on(
    tmp_path: Path, service_id: str, url: str, timeouts: Timeouts, *statements: str
) -> Iterator[ServiceSpec]:
    """A db service on ``url`` with ``timeouts``; ``statements`` make its tables."""
    folder = tmp_path / service_id
    folder.mkdir()
    options = DbOptions(
        connection=url,
        connect_timeout=timeouts.connect,
        statement_timeout=timeouts.statement,
    )
    spec = ServiceSpec(
        service_id, "db", f"/{service_id}", folder, f"services.{service_id}", options
    )
    alias = alias_for(spec)
    config = connections.configure_settings(
        {
            **settings.DATABASES,
            alias: database_settings(url, tmp_path, timeouts=timeouts),
        }
    )[alias]
    connections.settings[alias] = settings.DATABASES[alias] = config
    try:
        with connections[alias].cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        connections[alias].close()
        yield spec
    finally:
        connections[alias].close()
        del connections[alias]
        connections.settings.pop(alias, None)
        settings.DATABASES.pop(alias, None)


@contextlib.contextmanager
def served() -> Iterator[ASGIThreadTransport]:
    """The platform's ASGI application on a loop thread, as under a server."""
    transport = ASGIThreadTransport(build_application())
    try:
        yield transport
    finally:
        transport.close()


class Shared(httpx.BaseTransport):
    """The application's transport, for clients of many threads (never closed)."""

    def __init__(self, inner: ASGIThreadTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)


def client_of(app: ASGIThreadTransport) -> httpx.Client:
    return httpx.Client(transport=Shared(app), base_url="http://testserver")


def timed_get(app: ASGIThreadTransport, path: str) -> tuple[float, httpx.Response]:
    started = time.monotonic()
    with client_of(app) as client:
        response = client.get(path)
    return time.monotonic() - started, response


def wait_until(check, timeout: float) -> float:
    """Return the seconds ``check()`` took to become true; fail past ``timeout``."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            pytest.fail(f"not true within {timeout:g} s")
        time.sleep(0.2)
    return time.monotonic() - started


def assert_unavailable(response: httpx.Response) -> None:
    """A JSON 503 (no connection) or 504 (no answer in time)."""
    body = response.json()
    assert response.status_code in (503, 504), response.text
    expected = {
        503: ("SERVICE_UNAVAILABLE", "The database is unavailable; retry later"),
        504: ("GATEWAY_TIMEOUT", "The database did not answer"),
    }[response.status_code]
    assert body["statusCode"] == response.status_code
    assert body["code"] == expected[0]
    assert body["message"].startswith(expected[1])


def test_a_frozen_database_stalls_only_its_own_service(tmp_path, django_db_blocker):
    timeouts = Timeouts(connect=2, statement=2)
    with (
        django_db_blocker.unblock(),
        throwaway_postgres() as cluster,
        fresh_database("postgresql", tmp_path) as healthy_url,
        db_service_on(tmp_path, "stuck", cluster.url, timeouts, ITEMS) as stuck,
        db_service_on(tmp_path, "well", healthy_url, timeouts, ITEMS) as well,
        only_services(stuck, well),
        served() as app,
    ):
        for path in ("/stuck/items", "/well/items", "/_joule/ready"):
            assert timed_get(app, path)[1].status_code == 200
        cluster.freeze()
        try:
            # More requests than the frozen database's threads, all at once.
            with ThreadPoolExecutor(12) as pool:
                stalled = [
                    pool.submit(timed_get, app, "/stuck/items") for _ in range(12)
                ]
                time.sleep(0.5)
                for _ in range(5):
                    took, response = timed_get(app, "/well/items")
                    assert response.status_code == 200, response.text
                    assert took < FAST, f"the healthy service took {took:.1f} s"
                took, ready = timed_get(app, "/_joule/ready")
                assert ready.status_code == 503
                assert took < 5, f"/_joule/ready took {took:.1f} s"
                states = ready.json()["services"]
                assert states["well"] == {"ready": True, "detail": "ok"}
                assert states["stuck"]["ready"] is False
                assert states["stuck"]["detail"] in (
                    "no answer within 2 s",
                    "database unavailable: OperationalError",
                )
                answers = [future.result(timeout=60) for future in stalled]
            for took, response in answers:
                assert_unavailable(response)
                assert took < timeouts.request + 3, f"answered after {took:.1f} s"
        finally:
            cluster.thaw()
        wait_until(lambda: timed_get(app, "/stuck/items")[1].status_code == 200, 15)
        assert timed_get(app, "/well/items")[1].status_code == 200
        wait_until(lambda: timed_get(app, "/_joule/ready")[1].status_code == 200, 10)


def test_a_stopped_database_answers_503_and_comes_back(tmp_path, django_db_blocker):
    timeouts = Timeouts(connect=2, statement=5)
    with (
        django_db_blocker.unblock(),
        throwaway_postgres() as cluster,
        db_service_on(tmp_path, "gone", cluster.url, timeouts, ITEMS) as gone,
        only_services(gone),
        served() as app,
    ):
        with client_of(app) as client:
            created = client.post("/gone/items", json={"name": "kept"})
        assert created.status_code == 201, created.text
        assert timed_get(app, "/_joule/ready")[1].status_code == 200
        cluster.stop()
        try:
            for _ in range(3):
                took, response = timed_get(app, "/gone/items")
                assert_unavailable(response)
                assert response.status_code == 503
                assert took < timeouts.connect + 1
            took, ready = timed_get(app, "/_joule/ready")
            assert (ready.status_code, took < 5) == (503, True)
            assert ready.json()["services"]["gone"] == {
                "ready": False,
                "detail": "database unavailable: OperationalError",
            }
        finally:
            cluster.start()
        wait_until(lambda: timed_get(app, "/gone/items")[1].status_code == 200, 10)
        assert timed_get(app, "/gone/items")[1].json() == [{"id": 1, "name": "kept"}]
        assert timed_get(app, "/_joule/ready")[1].json()["services"]["gone"] == {
            "ready": True,
            "detail": "ok",
        }


def test_a_statement_over_the_timeout_is_answered_504(tmp_path, django_db_blocker):
    timeouts = Timeouts(connect=2, statement=1)
    naps = "CREATE VIEW naps AS SELECT 1 AS id, pg_sleep(3)::text AS nap"
    with (
        django_db_blocker.unblock(),
        fresh_database("postgresql", tmp_path) as url,
        db_service_on(tmp_path, "slow", url, timeouts, naps) as slow,
        only_services(slow),
        served() as app,
    ):
        took, response = timed_get(app, "/slow/naps")
        for _ in range(2):  # the first may be answered by Django, then the fast path
            assert response.status_code == 504, response.text
            assert response.json() == {
                "statusCode": 504,
                "code": "GATEWAY_TIMEOUT",
                "error": "Gateway Timeout",
                "message": response.json()["message"],
            }
            assert response.json()["message"].startswith("The database did not answer")
            assert took < 3
            took, response = timed_get(app, "/slow/naps")


def write_project(root: Path, joule: str, service: str) -> Path:
    (root / "services" / "own").mkdir(parents=True)
    (root / "joule.toml").write_text(joule)
    (root / "services" / "own" / "service.toml").write_text(service)
    return root


def test_timeouts_come_from_the_service_and_joule_toml(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    root = write_project(
        tmp_path,
        '[database]\nurl = "postgres://u@h/platform"\nconnect_timeout = 3\n'
        "statement_timeout = 20\n",
        'kind = "db"\n[db]\nconnection = "postgres://u@h/own"\n'
        "statement_timeout = 7.5\n",
    )
    config = load_config(root)
    assert (config.database.connect_timeout, config.database.statement_timeout) == (
        3.0,
        20.0,
    )
    found = databases(config)
    assert found["default"]["OPTIONS"]["options"] == "-c statement_timeout=20000"
    assert found["joule_own"]["OPTIONS"]["options"] == "-c statement_timeout=7500"
    assert found["joule_own"]["OPTIONS"]["connect_timeout"] == 3
    assert found["joule_own"]["OPTIONS"]["answer_timeout"] == 8.5
    mariadb = database_settings("mysql://u@h/db", tmp_path, timeouts=Timeouts(4, 9))
    assert mariadb["OPTIONS"]["connect_timeout"] == 4
    assert "/*M!, max_statement_time=9 */" in mariadb["OPTIONS"]["init_command"]


@pytest.mark.parametrize(
    ("joule", "service", "message"),
    [
        (
            "[database]\nconnect_timeout = 0\n",
            'kind = "db"\n',
            "joule.toml: database.connect_timeout: must be more than 0 seconds",
        ),
        (
            "",
            'kind = "db"\n[db]\nconnection = "postgres://u@h/own"\n'
            'statement_timeout = "30"\n',
            "services/own/service.toml: db.statement_timeout: expected an "
            "integer or a number, got '30'",
        ),
        (
            "",
            'kind = "db"\n[db]\nstatement_timeout = 5\n',
            "services/own/service.toml: db.statement_timeout: only a service with "
            "its own db.connection has its own timeouts; the platform database's "
            "are [database] statement_timeout in joule.toml",
        ),
    ],
)
def test_bad_timeouts_are_refused_naming_the_key(tmp_path, joule, service, message):
    with pytest.raises(ConfigError) as refused:
        load_config(write_project(tmp_path, joule, service))
    assert str(refused.value) == message
