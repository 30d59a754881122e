"""Fixtures for tests against real database servers."""

from pathlib import Path

import pytest

from platform_core.config.schema import ServiceSpec
from platform_core.db.connections import alias_for
from platform_core.kinds.db import DbOptions
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
