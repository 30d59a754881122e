"""Fixtures for tests against real database servers."""

import contextlib
import dataclasses
import tomllib
from pathlib import Path

import pytest
from django.db import connections

from platform_core.config.reader import TableReader
from platform_core.config.services import DbOptions, read_db_options
from platform_core.config.types import ServiceSpec
from platform_core.db.connections import alias_for
from platform_core.testing import register_temporarily
from tests.databases import ENGINES, connection_alias, fresh_database


@pytest.fixture(params=ENGINES)
def engine(request):
    """Each engine in turn: sqlite, postgresql, mariadb."""
    return request.param


@pytest.fixture
def database_url(engine, tmp_path):
    """A fresh, empty database on the engine's server."""
    with fresh_database(engine, tmp_path) as url:
        yield url


def make_db_service(folder: Path, url: str, service_id: str = "shop") -> ServiceSpec:
    """Return a db service spec on ``url`` whose files live in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    return ServiceSpec(
        service_id,
        "db",
        "/" + service_id,
        folder,
        "services." + service_id,
        DbOptions(connection=url),
    )


@pytest.fixture
def db_service(database_url, tmp_path, django_db_blocker):
    """A registered db service on a fresh database, with its connection alias."""
    spec = make_db_service(tmp_path / "shop", database_url)
    with (
        django_db_blocker.unblock(),
        connection_alias(alias_for(spec), database_url, tmp_path),
        register_temporarily(spec),
    ):
        yield spec


@contextlib.contextmanager
def configured_db_service(
    tmp_path: Path, url: str, toml: str, service_id: str = "shop", statements=()
):
    """Register a db service on ``url`` whose service.toml is ``toml``.

    ``statements`` (SQL) create its tables; yields the spec.
    """
    reader = TableReader(tomllib.loads(toml), f"services/{service_id}/service.toml")
    options = read_db_options(reader, service_id)
    spec = make_db_service(tmp_path / service_id, url, service_id)
    spec = dataclasses.replace(
        spec, options=dataclasses.replace(options, connection=url)
    )
    with (
        connection_alias(alias_for(spec), url, tmp_path),
        register_temporarily(spec),
    ):
        with connections[alias_for(spec)].cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        yield spec
