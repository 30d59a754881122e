"""The example db services on fresh databases, served live, for fuzzing.

``products`` and ``orders`` (from ``services/``) get a copy per engine,
registered at once under their own ids (``products-postgresql`` at
``/products-postgresql``), migrated with their own SQL files and seeded from
their ``seeds/``; one uvicorn server in this process serves them all::

    with running_examples(tmp_path) as fleet:
        spec = fleet.get("products", "postgresql")   # skips if no server
        fleet.seed(spec)
        httpx.get(f"{fleet.base_url()}{spec.prefix}/products")
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from django.db import connections
from hypothesis import HealthCheck, Phase, settings

from platform_core.config.types import ServiceSpec
from platform_core.db.connections import alias_for
from platform_core.db.migrator import Migrator
from platform_core.entities import entities
from platform_core.gateway.routing.asgi import build_application
from platform_core.management.commands.dbseed import seed_json
from platform_core.registry import services
from platform_core.testing import live_server, register_temporarily
from tests.databases import connection_alias, fresh_database

ROOT = Path(__file__).resolve().parents[1]
SEEDS = {"products": "catalogue.json", "orders": "orders.json"}


def without_processes(app):
    """Return ``app`` with a lifespan that starts nothing.

    The project's frontends (Node processes) are not under test here.
    """

    async def application(scope, receive, send):
        if scope["type"] != "lifespan":
            return await app(scope, receive, send)
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})

    return application


class ExampleServices:
    """The example services on fresh databases, one copy per engine.

    ``products`` on PostgreSQL is the service ``products-postgresql`` at
    ``/products-postgresql``: every copy is registered at once, so tests may
    run in any order. Databases are made on first use and dropped at the end.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.stack = contextlib.ExitStack()
        self.specs: dict[tuple[str, str], ServiceSpec] = {}
        self.absent: dict[str, BaseException] = {}
        self.url: str | None = None

    def get(self, service: str, engine: str) -> ServiceSpec:
        """Return the copy of ``service`` on ``engine``, made on first use.

        A server that is absent skips (or fails) every test of its engine.
        """
        if engine in self.absent:
            raise self.absent[engine]
        key = (service, engine)
        if key not in self.specs:
            try:
                self.specs[key] = self._start(service, engine)
            except pytest.skip.Exception as exc:
                self.absent[engine] = exc
                raise
        return self.specs[key]

    def _start(self, service: str, engine: str) -> ServiceSpec:
        url = self.stack.enter_context(fresh_database(engine, self.folder))
        example = services.get(service)
        copy = f"{service}-{engine}"
        spec = dataclasses.replace(
            example,
            id=copy,
            prefix=f"/{copy}",
            module=f"services.{copy.replace('-', '_')}",
            options=dataclasses.replace(example.options, connection=url),
        )
        self.stack.enter_context(connection_alias(alias_for(spec), url, self.folder))
        self.stack.enter_context(register_temporarily(spec))
        Migrator(spec).apply()
        return spec

    def seed(self, spec: ServiceSpec) -> None:
        """Delete every row of ``spec``'s tables, then insert the seed rows."""
        example = spec.id.rsplit("-", 1)[0]
        data = orjson.loads(
            (ROOT / "services" / example / "seeds" / SEEDS[example]).read_bytes()
        )
        alias = alias_for(spec)
        with connections[alias].cursor() as cursor:
            for plural in reversed(list(data)):
                table = entities(spec.id).by_plural(plural).info.model._meta.db_table
                cursor.execute(
                    f"DELETE FROM {connections[alias].ops.quote_name(table)}"
                )
        seed_json(spec.id, data)

    def base_url(self) -> str:
        """Return the URL of a live server of the platform, started once."""
        if self.url is None:
            app = without_processes(build_application())
            self.url = self.stack.enter_context(live_server(app))
        return self.url

    def close(self) -> None:
        """Stop the server, unregister the copies, drop their databases."""
        self.stack.close()


@contextlib.contextmanager
def running_examples(folder: Path) -> Iterator[ExampleServices]:
    """Yield an ExampleServices in ``folder``; drop its databases after."""
    fleet = ExampleServices(folder)
    try:
        yield fleet
    finally:
        fleet.close()


# What the fuzz suites run on, and how much: the same cases on every run
# (CI failures reproduce), no shrinking (bounded time).
ENGINES = ("sqlite", "postgresql")
MODES = ("positive", "negative")
FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
