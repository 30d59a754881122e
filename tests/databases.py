"""Fresh databases on real servers for tests: SQLite, PostgreSQL, MariaDB.

Each test gets a new database (created and dropped on the server), registered
as a Django connection alias. A server that is absent skips the test, or
fails it under JOULE_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import connections

from platform_core.db.connections import database_settings
from platform_core.testing import skip_or_fail

ENGINES = ("sqlite", "postgresql", "mariadb")
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}
MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}


def _pg_admin():
    import psycopg

    try:
        return psycopg.connect(**PG, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        skip_or_fail(f"PostgreSQL is not reachable on 127.0.0.1:5432: {exc}")


def _mariadb_admin():
    import MySQLdb

    try:
        return MySQLdb.connect(**MARIADB, connect_timeout=3)
    except MySQLdb.OperationalError as exc:
        skip_or_fail(f"MariaDB is not reachable on 127.0.0.1:3306: {exc}")


@contextlib.contextmanager
def fresh_database(engine: str, folder: Path) -> Iterator[str]:
    """Create an empty database on ``engine``'s server; yield its URL; drop it."""
    name = "joule_t_" + uuid.uuid4().hex[:12]
    if engine == "sqlite":
        yield f"sqlite:///{folder / (name + '.sqlite3')}"
    elif engine == "postgresql":
        admin = _pg_admin()
        admin.execute(f"CREATE DATABASE {name}")
        try:
            yield f"postgres://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.close()
    elif engine == "mariadb":
        import MySQLdb

        admin = _mariadb_admin()
        admin.cursor().execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
        try:
            yield f"mysql://root@127.0.0.1:3306/{name}"
        finally:
            # Like PostgreSQL's DROP ... WITH (FORCE): connections threads of
            # the test left open (until garbage collection) would otherwise
            # pile up to MariaDB's max_connections.
            cursor = admin.cursor()
            cursor.execute(
                "SELECT id FROM information_schema.processlist WHERE db = %s", (name,)
            )
            for (thread_id,) in cursor.fetchall():
                with contextlib.suppress(MySQLdb.OperationalError):
                    cursor.execute(f"KILL {int(thread_id)}")
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")
            admin.close()
    else:
        raise ValueError(engine)


@contextlib.contextmanager
def connection_alias(alias: str, url: str, root: Path) -> Iterator[str]:
    """Register ``url`` as Django connection ``alias`` for the block.

    An alias of that name (a project's own service's) is restored after.
    """
    before = connections.settings.get(alias), settings.DATABASES.get(alias)
    if before[0] is not None:
        connections[alias].close()
        del connections[alias]
    config = connections.configure_settings(
        {**settings.DATABASES, alias: database_settings(url, root)}
    )
    connections.settings[alias] = config[alias]
    settings.DATABASES[alias] = config[alias]
    try:
        yield alias
    finally:
        connections[alias].close()
        del connections[alias]
        for table, previous in zip(
            (connections.settings, settings.DATABASES), before, strict=True
        ):
            if previous is None:
                table.pop(alias, None)
            else:
                table[alias] = previous


@contextlib.contextmanager
def postgres_down(name: str) -> Iterator[None]:
    """Make PostgreSQL refuse connections to database ``name`` for the block.

    Its open connections are ended too, as a server going away would.
    """
    with _pg_admin() as admin:
        admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}'"
        )
    try:
        yield
    finally:
        with _pg_admin() as admin:
            admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
