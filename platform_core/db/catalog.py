"""The schema of each db service, read from its database on first use.

A service with migrations sees the tables its migrations created; one
without (a legacy database) sees every table and view there, except the
platform's own::

    schema = get_schema(spec)           # cached
    forget_schema(spec.id)              # after migrations change tables
    migration_watch.start()             # notices other processes' migrations
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.db import connections
from django.dispatch import Signal

from platform_core.config.types import ServiceSpec
from platform_core.db.connections import alias_for
from platform_core.db.migrator import PLATFORM_TABLES, Migrator
from platform_core.db.models import build_schema
from platform_core.db.tables import read_tables, table_names
from platform_core.introspection import Schema

logger = logging.getLogger("joule.db")
# Sent when a service's schema is dropped (its tables changed): whatever was
# built from the old models (routes, admin registrations) must go too.
schema_forgotten = Signal()
_schemas: dict[ServiceSpec, Schema] = {}
_lock = threading.Lock()


def get_schema(spec: ServiceSpec) -> Schema:
    """Return the schema of db service ``spec``, reading it on first use."""
    schema = _schemas.get(spec)
    if schema is None:
        with _lock:
            schema = _schemas.get(spec) or _load_outside_event_loop(spec)
            _schemas[spec] = schema
    return schema


def _load_outside_event_loop(spec: ServiceSpec) -> Schema:
    """Load the schema, in a worker thread when called from an event loop.

    Django resolves URLs of ASGI requests in async context, where the
    database may not be touched; the first request then waits for the
    thread (``warm_up`` at start-up usually loaded it already).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return load_schema(spec)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_load_and_close, spec).result()


def _load_and_close(spec: ServiceSpec) -> Schema:
    try:
        return load_schema(spec)
    finally:
        connections[alias_for(spec)].close()


def forget_schema(service_id: str, **kwargs) -> None:
    """Drop the cached schema of a service; the next use reads it again.

    Also a receiver of ``migrator.tables_changed`` (connected at start-up).
    """
    for spec in [spec for spec in _schemas if spec.id == service_id]:
        del _schemas[spec]
    schema_forgotten.send(sender=None, service_id=service_id)


def load_schema(spec: ServiceSpec) -> Schema:
    """Read the service's tables and build its models."""
    alias = alias_for(spec)
    connection = connections[alias]
    migrator = Migrator(spec)
    with connection.cursor() as cursor:
        excluded = set(PLATFORM_TABLES)
        if alias == "default":
            excluded |= set(connection.introspection.django_table_names())
        names = table_names(connection, cursor, excluded)
        if migrator.migrations:
            owned = migrator.owned_tables()
            names = [(name, view) for name, view in names if name in owned]
        tables = read_tables(connection, cursor, names)
    for table in tables:
        if not table.view and not table.primary_key:
            logger.warning(
                "%s: table %s has no primary key; it is read-only", spec.id, table.name
            )
    return build_schema(spec, alias, tables)


class MigrationWatch:
    """Notice migrations another process applied (``manage.py dbmigrate``).

    Every ``interval`` seconds, a thread reads each db service's applied
    versions; when they changed since the last look, the service's schema is
    forgotten, so its routes, GraphQL schema and admin are built again from
    the new tables on the next request, without a restart::

        MigrationWatch().start()     # warm_up does it in servers
    """

    def __init__(self, interval: float = 2.0) -> None:
        self.interval = interval
        self._versions: dict[str, tuple] = {}
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start watching in a daemon thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="joule-migration-watch", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            try:
                self.check()
            except Exception:  # a database that is down: look again later
                logger.debug("migration watch: check failed", exc_info=True)
            finally:
                connections.close_all()

    def check(self) -> list[str]:
        """Forget the schemas whose versions changed; return those services."""
        from platform_core.registry import services

        changed = []
        for spec in services:
            if spec.kind != "db":
                continue
            versions = _applied_versions(spec)
            known = self._versions.get(spec.id)
            self._versions[spec.id] = versions
            if known is not None and versions != known:
                logger.info(
                    "%s: migrations changed (%s); tables read again", spec.id, versions
                )
                forget_schema(spec.id)
                changed.append(spec.id)
        return changed


def _applied_versions(spec: ServiceSpec) -> tuple:
    """Return the applied versions of a service, or () without a versions table.

    A service without migrations has none, and its database is not asked.
    """
    from django.db import DatabaseError

    from platform_core.db.migrator import VERSIONS_TABLE

    if not Migrator(spec).migrations:
        return ()  # an existing database served as it is: no versions
    connection = connections[alias_for(spec)]
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT version FROM {VERSIONS_TABLE} WHERE service = %s "
                "ORDER BY version",
                [spec.id],
            )
            return tuple(row[0] for row in cursor.fetchall())
    except DatabaseError:
        return ()


migration_watch = MigrationWatch()
