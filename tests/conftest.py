"""Shared fixtures for the platform's tests."""

import os
import shutil
import subprocess
import sys
import time

import pytest

from tests.servers import ROOT, running_server

FRONTEND_START_TIMEOUT = 180.0  # a fresh clone runs `npm ci` first
CATALOGUE = ROOT / "services" / "products" / "seeds" / "catalogue.json"


def start_frontend(service_id: str):
    """Start a frontend service's process through the platform; return it.

    The platform's own install step runs ``npm ci`` from the committed
    lockfile when ``node_modules`` is missing or stale, and its build
    command when a source is newer than the last build.
    """
    from platform_core.registry import services
    from platform_core.runtime.frontends import frontends
    from platform_core.testing import skip_or_fail

    if shutil.which("npm") is None or shutil.which("node") is None:
        skip_or_fail(f"node and npm are needed to run the {service_id} frontend")
    process = frontends.start(services.get(service_id))
    if not process.wait_ready(FRONTEND_START_TIMEOUT):
        pytest.fail(f"{service_id} did not start: {process.detail}")
    return process


@pytest.fixture(scope="session")
def legacy_express():
    """The legacy-express frontend's process, installed and started once."""
    process = start_frontend("legacy-express")
    yield process
    process.stop()


@pytest.fixture(scope="session")
def storefront():
    """The Next.js storefront's process: ``npm ci``, ``next build``, ``next start``."""
    process = start_frontend("storefront")
    yield process
    process.stop()


@pytest.fixture
def express(legacy_express):
    """The legacy-express process, running (started again if a test stopped it)."""
    legacy_express.start()
    assert legacy_express.wait_ready(60), legacy_express.detail
    return legacy_express


@pytest.fixture
def next_storefront(storefront):
    """The storefront process, running (started again if a test stopped it)."""
    storefront.start()
    assert storefront.wait_ready(60), storefront.detail
    return storefront


def seed_catalogue(database_url: str, root=ROOT) -> None:
    """Load the products seed into the server's database with dbseed."""
    command = [sys.executable, "manage.py", "dbseed", "products", str(CATALOGUE)]
    env = {**os.environ, "DATABASE_URL": database_url, "JOULE_ROOT": str(root)}
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def storefront_server(tmp_path_factory, storefront):
    """gunicorn serving the platform as in production, the catalogue seeded.

    It serves a project of the storefront and the products it reads; its
    worker starts its own storefront process (``storefront`` built it).
    """
    from platform_core.testing import project_of

    workdir = tmp_path_factory.mktemp("storefront-gunicorn")
    root = project_of(workdir, ROOT / "services", ("products", "storefront"))
    args = [
        "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
        "platform_core.asgi:application", "-b", "127.0.0.1:{port}", "-w", "1",
    ]  # fmt: skip
    env = {"JOULE_ROOT": str(root)}
    with running_server("gunicorn", args, workdir, env) as server:
        seed_catalogue(f"sqlite:///{workdir / 'db.sqlite3'}", root)
        deadline = time.monotonic() + 60
        while server.get("/storefront/api/health").status_code != 200:
            assert time.monotonic() < deadline, server.stderr.read_text()[-3000:]
            time.sleep(0.2)
        yield server
