"""A lock held across processes and machines while migrations run.

Several replicas starting together (``manage.py start`` on each) must not
apply the same migration twice: the first takes the lock and migrates, the
others wait, then find nothing pending. The lock is the platform database's
own (PostgreSQL advisory lock, MariaDB ``GET_LOCK``), or a file lock beside
an SQLite file::

    with migration_lock():              # the "default" database
        call_command("migrate")
"""

from __future__ import annotations

import contextlib
import fcntl
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from django.db import connections

from platform_core.exceptions import ConfigError

NAME = "joule.migrate"
# Seconds a replica waits for another's migrations before giving up.
TIMEOUT = 600
_KEY = zlib.crc32(NAME.encode())  # PostgreSQL advisory locks take a number


@contextlib.contextmanager
def _postgresql(connection) -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = %s", [f"{TIMEOUT}s"])
        cursor.execute("SELECT pg_advisory_lock(%s)", [_KEY])
        cursor.execute("SET lock_timeout = 0")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_KEY])


@contextlib.contextmanager
def _mysql(connection) -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT GET_LOCK(%s, %s)", [NAME, TIMEOUT])
        if cursor.fetchone()[0] != 1:
            raise ConfigError(f"Another process held {NAME!r} for {TIMEOUT} s")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT RELEASE_LOCK(%s)", [NAME])


@contextlib.contextmanager
def _sqlite(connection) -> Iterator[None]:
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or name.startswith("file:"):
        yield  # one process owns an in-memory database
        return
    path = Path(name).with_name(Path(name).name + ".joule-migrate-lock")
    with path.open("a") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


_LOCKS: dict[str, Callable] = {
    "postgresql": _postgresql,
    "mysql": _mysql,
    "sqlite": _sqlite,
}


@contextlib.contextmanager
def migration_lock(alias: str = "default") -> Iterator[None]:
    """Hold the migration lock of database ``alias`` inside the block."""
    connection = connections[alias]
    connection.ensure_connection()
    with _LOCKS[connection.vendor](connection):
        yield
