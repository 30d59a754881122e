"""Shared fixtures for the platform's tests."""

import shutil

import pytest

FRONTEND_START_TIMEOUT = 180.0  # a fresh clone runs `npm ci` first


@pytest.fixture(scope="session")
def legacy_express():
    """The legacy-express frontend's process, installed and started once.

    The platform's own install step runs ``npm ci`` from the committed
    lockfile when ``node_modules`` is missing or stale.
    """
    from platform_core.registry import services
    from platform_core.runtime.frontends import frontends
    from platform_core.testing import skip_or_fail

    if shutil.which("npm") is None or shutil.which("node") is None:
        skip_or_fail("node and npm are needed to run the legacy-express frontend")
    process = frontends.start(services.get("legacy-express"))
    if not process.wait_ready(FRONTEND_START_TIMEOUT):
        pytest.fail(f"legacy-express did not start: {process.detail}")
    yield process
    process.stop()


@pytest.fixture
def express(legacy_express):
    """The legacy-express process, running (started again if a test stopped it)."""
    legacy_express.start()
    assert legacy_express.wait_ready(60), legacy_express.detail
    return legacy_express
