"""``manage.py startservice``: every kind scaffolds a service whose own tests pass.

All five kinds (and one service with a custom prefix) are generated into one
scratch project, through the real ``manage.py`` in a subprocess; the generated
tests then run once, in another subprocess, as a user would run them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

MANAGE = Path(__file__).resolve().parents[2] / "manage.py"
KINDS = ("db", "service", "gateway", "frontend", "wsgi")
# Files each kind writes besides service.toml and its tests.
KIND_FILES = {
    "db": [
        "services/my-db/migrations/001.do.sql",
        "services/my-db/migrations/001.undo.sql",
    ],
    "service": [
        "services/my-service/apps.py",
        "services/my-service/urls.py",
        "services/my-service/views.py",
    ],
    "gateway": ["services/my-gateway/urls.py"],
    "frontend": [
        "proxied_frontends/my-frontend/package.json",
        "proxied_frontends/my-frontend/server.js",
    ],
    "wsgi": ["services/my-wsgi/app.py"],
}
GENERATED_TEST = {
    "db": "test_service_is_ready",
    "service": "test_index_answers_under_the_prefix",
    "gateway": "test_gateway_lists_the_services",
    "frontend": "test_frontend_is_registered_with_its_node_app",
    "wsgi": "test_app_answers_under_the_prefix",
}
PYTEST_ARGS = [
    "-m",
    "pytest",
    "-q",
    "-rA",
    "-p",
    "pytest_django",
    "--ds=platform_core.settings",
    "-p",
    "no:cacheprovider",
    "--import-mode=importlib",
    "-o",
    "asyncio_default_fixture_loop_scope=function",
    "services",
]


def run(project: Path, *args: str) -> subprocess.CompletedProcess:
    """Run ``python <args>`` with ``project`` as the Joule project and cwd."""
    env = {
        "JOULE_ROOT": str(project),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def manage(project: Path, *args: str) -> subprocess.CompletedProcess:
    """Run ``manage.py <args>`` of this repository on ``project``."""
    return run(project, str(MANAGE), *args)


def tree(root: Path) -> dict[str, bytes | None]:
    """Return every path under ``root``: file contents, None for folders."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None)
        for p in root.rglob("*")
    }


def output(result: subprocess.CompletedProcess) -> str:
    """Return a subprocess's exit code and output, for failure messages."""
    return (
        f"exit {result.returncode}\n--- stdout\n{result.stdout}"
        f"\n--- stderr\n{result.stderr}"
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A scratch project: an empty joule.toml and a services package."""
    root = tmp_path_factory.mktemp("project")
    (root / "joule.toml").write_text("")
    (root / "services").mkdir()
    (root / "services" / "__init__.py").write_text("")
    return root


@pytest.fixture(scope="module")
def created(project) -> dict[str, subprocess.CompletedProcess]:
    """startservice's result for my-<kind> of each kind, and for shop at /store."""
    results = {
        kind: manage(project, "startservice", f"my-{kind}", "--kind", kind)
        for kind in KINDS
    }
    results["shop"] = manage(project, "startservice", "shop", "--prefix", "/store")
    return results


@pytest.fixture(scope="module")
def services_table(project, created) -> dict[str, list[str]]:
    """``manage.py services`` of the project: the header and rows by id."""
    result = manage(project, "services")
    assert result.returncode == 0, output(result)
    lines = result.stdout.splitlines()
    return {
        "header": lines[0].split(),
        **{line.split()[0]: line.split() for line in lines[1:]},
    }


@pytest.fixture(scope="module")
def generated_tests(project, created) -> subprocess.CompletedProcess:
    """One pytest run over the tests of every generated service."""
    return run(project, *PYTEST_ARGS)


@pytest.mark.parametrize("kind", KINDS)
def test_startservice_writes_the_files_of_each_kind(project, created, kind):
    result = created[kind]
    assert result.returncode == 0, output(result)
    folder = f"services/my-{kind}"
    expected = [
        f"{folder}/service.toml",
        f"{folder}/tests/test_my_{kind}.py",
        *KIND_FILES[kind],
    ]
    for path in expected:
        assert (project / path).is_file(), f"{path} was not written"
        assert f"created {path}" in result.stdout
    config = tomllib.loads((project / folder / "service.toml").read_text())
    assert config["id"] == f"my-{kind}"
    assert config["kind"] == kind
    assert "prefix" not in config


def test_startservice_writes_exactly_the_files_it_reports(project, created):
    reported = {
        line.removeprefix("  created ")
        for result in created.values()
        for line in result.stdout.splitlines()
        if line.startswith("  created ")
    }
    written = {
        p.relative_to(project).as_posix()
        for p in project.rglob("*")
        if p.is_file() and p.relative_to(project).parts[0] != "var"
    }
    assert written == reported | {"joule.toml", "services/__init__.py"}


def test_services_prints_a_table_header(services_table):
    assert services_table["header"] == ["ID", "KIND", "PREFIX", "HEALTH"]


@pytest.mark.parametrize("kind", KINDS)
def test_services_lists_each_new_service_with_its_kind_and_prefix(services_table, kind):
    row = services_table[f"my-{kind}"]
    assert row[1:3] == [kind, f"/my-{kind}"]


def test_generated_tests_pass(generated_tests):
    assert generated_tests.returncode == 0, output(generated_tests)
    assert "6 passed" in generated_tests.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_generated_test_of_each_kind_passes(generated_tests, kind):
    node = f"services/my-{kind}/tests/test_my_{kind}.py::{GENERATED_TEST[kind]}"
    assert f"PASSED {node}" in generated_tests.stdout, output(generated_tests)


def test_custom_prefix_is_written_and_used(
    project, created, services_table, generated_tests
):
    assert created["shop"].returncode == 0, output(created["shop"])
    config = tomllib.loads((project / "services/shop/service.toml").read_text())
    assert config == {"id": "shop", "kind": "service", "prefix": "/store"}
    assert services_table["shop"][1:3] == ["service", "/store"]
    test_file = (project / "services/shop/tests/test_shop.py").read_text()
    assert 'client.get("/store/")' in test_file
    node = "services/shop/tests/test_shop.py::test_index_answers_under_the_prefix"
    assert f"PASSED {node}" in generated_tests.stdout, output(generated_tests)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["Bad"],
            "'Bad' is not a valid service id: use lower-case letters",
            id="upper-case-id",
        ),
        pytest.param(["1abc"], "'1abc' is not a valid service id", id="leading-digit"),
        pytest.param(
            ["other", "--kind", "servce"],
            "'servce' is not a kind. Kinds: db, service, gateway, frontend, "
            "wsgi. Did you mean 'service'?",
            id="unknown-kind",
        ),
        pytest.param(
            ["my-db"],
            "A service 'my-db' already exists (services/my-db/service.toml)",
            id="duplicate-id",
        ),
        pytest.param(
            ["other", "--prefix", "/my-wsgi"],
            "The prefix '/my-wsgi' is already used by the service 'my-wsgi'",
            id="prefix-in-use",
        ),
        pytest.param(
            ["other", "--prefix", "/admin"],
            "--prefix: '/admin' is reserved for the platform",
            id="reserved-prefix",
        ),
    ],
)
def test_startservice_refuses_and_writes_nothing(project, created, args, message):
    before = tree(project)
    result = manage(project, "startservice", *args)
    assert result.returncode != 0, output(result)
    assert message in result.stderr, output(result)
    assert "created" not in result.stdout
    assert tree(project) == before
