"""Shared fixtures for the platform's tests."""

import shutil

import pytest

FRONTEND_START_TIMEOUT = 180.0  # a fresh clone runs `npm ci` first


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
