"""SQL migrations of db services: ``migrations/NNN.do.sql`` and ``NNN.undo.sql``.

Applied in order, each in one transaction (DDL included where the database
allows it: SQLite and PostgreSQL; MariaDB commits DDL at once), and
recorded per service in ``joule_versions``. The tables a migration creates
are recorded in ``joule_tables`` so services sharing a database each see
their own. A service without migrations (an existing database served as it
is) never gets those tables: nothing is written to its database::

    migrator = Migrator(spec)
    migrator.apply()            # every pending migration
    migrator.apply(to=3)        # up to version 3
    migrator.rollback()         # undo the last one
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.db import DatabaseError, connections, transaction
from django.dispatch import Signal

from platform_core.config.types import ServiceSpec
from platform_core.db.connections import alias_for
from platform_core.exceptions import ConfigError

FILE_RE = re.compile(
    r"^(?P<version>\d+)\.(?P<action>do|undo)(?:\.(?P<name>[\w.-]+))?\.sql$"
)
# Django's database vendor -> the folder of that engine's own migration files.
ENGINE_FOLDERS = {"sqlite": "sqlite", "postgresql": "postgresql", "mysql": "mariadb"}
VERSIONS_TABLE = "joule_versions"
TABLES_TABLE = "joule_tables"
PLATFORM_TABLES = (VERSIONS_TABLE, TABLES_TABLE)
# Sent with ``service_id`` after a migration ran (or failed): the service's
# tables may differ now. ``db.catalog`` forgets what it read of them.
tables_changed = Signal()


class MigrationError(ConfigError):
    """A migration file failed; the message names it and the database's error."""


@dataclass(frozen=True)
class Migration:
    """One version: its do file and, when written, its undo file."""

    version: int
    name: str
    do: Path
    undo: Path | None = None


def read_migrations(
    folder: Path, source: str, vendor: str | None = None
) -> list[Migration]:
    """Return the migrations in ``folder`` by version.

    Files in ``folder/<engine>/`` (``sqlite``, ``postgresql``, ``mariadb``)
    replace, on that engine, the file of the same version and action: SQL
    that differs between engines (auto-increment keys) is written per engine.
    Raise ConfigError for a file that is not ``NNN.do[.name].sql`` or
    ``NNN.undo[.name].sql``, a version given twice, or an undo with no do.
    """
    files = _sql_files(folder, source)
    engine = ENGINE_FOLDERS.get(vendor or "")
    if engine is not None:
        files.update(_sql_files(folder / engine, f"{source}/{engine}"))
    migrations = []
    for (version, action), path in sorted(files.items()):
        if action == "undo" and (version, "do") not in files:
            raise ConfigError(f"{source}/{path.name}: no {version:03d}.do.sql for it")
        if action == "do":
            name = FILE_RE.match(path.name)["name"] or ""
            migrations.append(
                Migration(version, name, path, files.get((version, "undo")))
            )
    return migrations


def _sql_files(folder: Path, source: str) -> dict[tuple[int, str], Path]:
    """The migration files of one folder, by (version, action)."""
    files: dict[tuple[int, str], Path] = {}
    for path in sorted(folder.glob("*.sql")) if folder.is_dir() else ():
        match = FILE_RE.match(path.name)
        if not match:
            raise ConfigError(
                f"{source}/{path.name}: expected a name like 001.do.sql or 001.undo.sql"
            )
        key = (int(match["version"]), match["action"])
        if key in files:
            raise ConfigError(
                f"{source}/{path.name}: version {key[0]} already has {files[key].name}"
            )
        files[key] = path
    return files


class Migrator:
    """Apply and roll back one db service's migrations on its database."""

    def __init__(self, spec: ServiceSpec, using: str | None = None) -> None:
        self.spec = spec
        self.alias = using or alias_for(spec)
        self.source = f"services/{spec.folder.name}/migrations"
        vendor = connections[self.alias].vendor
        self.migrations = read_migrations(
            spec.folder / "migrations", self.source, vendor
        )

    @property
    def connection(self):
        """Return the Django connection of the service's database."""
        return connections[self.alias]

    def ensure_tables(self) -> None:
        """Create the versions and tables-owned tables when missing."""
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {VERSIONS_TABLE} ("
                "service VARCHAR(100) NOT NULL, version INTEGER NOT NULL, "
                "name VARCHAR(200) NOT NULL, applied_at VARCHAR(40) NOT NULL, "
                "PRIMARY KEY (service, version))"
            )
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLES_TABLE} ("
                "service VARCHAR(100) NOT NULL, name VARCHAR(200) NOT NULL, "
                "PRIMARY KEY (service, name))"
            )

    def _bookkeeping(self) -> bool:
        """Return whether the versions tables may be used, creating them if so.

        Only a service with migrations has them; for one without, they are
        read when another service made them, never created.
        """
        if self.migrations:
            self.ensure_tables()
            return True
        with self.connection.cursor() as cursor:
            names = self.connection.introspection.table_names(cursor)
        return VERSIONS_TABLE in names and TABLES_TABLE in names

    def applied(self) -> list[int]:
        """Return the applied versions, lowest first."""
        if not self._bookkeeping():
            return []
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"SELECT version FROM {VERSIONS_TABLE} WHERE service = %s "
                "ORDER BY version",
                [self.spec.id],
            )
            return [row[0] for row in cursor.fetchall()]

    def owned_tables(self) -> set[str]:
        """Return the tables this service's migrations created."""
        if not self._bookkeeping():
            return set()
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"SELECT name FROM {TABLES_TABLE} WHERE service = %s", [self.spec.id]
            )
            return {row[0] for row in cursor.fetchall()}

    def pending(self, to: int | None = None) -> list[Migration]:
        """Return the migrations not applied yet, up to version ``to``."""
        if not self.migrations:
            return []  # nothing to apply; the database is not even asked
        done = set(self.applied())
        return [
            m
            for m in self.migrations
            if m.version not in done and (to is None or m.version <= to)
        ]

    def apply(self, to: int | None = None) -> list[Migration]:
        """Apply pending migrations in order; return those applied.

        Raise MigrationError naming the file when one fails; that one is
        rolled back where the database allows, those before it stay.
        """
        applied = []
        for migration in self.pending(to):
            self._run(migration.do, migration, forward=True)
            applied.append(migration)
        return applied

    def rollback(self, to: int | None = None) -> list[Migration]:
        """Undo applied migrations above version ``to`` (default: the last one)."""
        done = self.applied()
        if not done:
            return []
        target = done[-2] if to is None and len(done) > 1 else (to or 0)
        by_version = {m.version: m for m in self.migrations}
        undone = []
        for version in reversed([v for v in done if v > target]):
            migration = by_version.get(version)
            if migration is None or migration.undo is None:
                raise MigrationError(
                    f"{self.source}: version {version} has no "
                    f"{version:03d}.undo.sql; cannot roll it back"
                )
            self._run(migration.undo, migration, forward=False)
            undone.append(migration)
        return undone

    def _run(self, path: Path, migration: Migration, forward: bool) -> None:
        introspection = self.connection.introspection
        try:
            with (
                transaction.atomic(using=self.alias),
                self.connection.cursor() as cursor,
            ):
                before = set(introspection.table_names(cursor, include_views=True))
                for statement in self.connection.ops.prepare_sql_script(
                    path.read_text()
                ):
                    cursor.execute(statement)
                after = set(introspection.table_names(cursor, include_views=True))
                self._record(cursor, migration, forward, after - before, before - after)
        except DatabaseError as exc:
            raise MigrationError(f"{self.source}/{path.name} failed: {exc}") from None
        finally:
            tables_changed.send(sender=Migrator, service_id=self.spec.id)

    def _record(
        self,
        cursor,
        migration: Migration,
        forward: bool,
        created: set[str],
        dropped: set[str],
    ) -> None:
        service = self.spec.id
        if forward:
            cursor.execute(
                f"INSERT INTO {VERSIONS_TABLE} (service, version, name, "
                "applied_at) VALUES (%s, %s, %s, %s)",
                [
                    service,
                    migration.version,
                    migration.name,
                    datetime.now(UTC).isoformat(),
                ],
            )
        else:
            cursor.execute(
                f"DELETE FROM {VERSIONS_TABLE} WHERE service = %s AND version = %s",
                [service, migration.version],
            )
        for name in sorted(created):
            cursor.execute(
                f"INSERT INTO {TABLES_TABLE} (service, name) VALUES (%s, %s)",
                [service, name],
            )
        for name in sorted(dropped):
            cursor.execute(
                f"DELETE FROM {TABLES_TABLE} WHERE service = %s AND name = %s",
                [service, name],
            )

    def create(self, name: str) -> tuple[Path, Path]:
        """Write the next pair of empty migration files; return their paths."""
        if not re.fullmatch(r"[\w-]+", name):
            raise ConfigError(f"--create {name!r}: use letters, digits, '_' and '-'")
        version = max((m.version for m in self.migrations), default=0) + 1
        folder = self.spec.folder / "migrations"
        folder.mkdir(exist_ok=True)
        do = folder / f"{version:03d}.do.{name}.sql"
        undo = folder / f"{version:03d}.undo.{name}.sql"
        do.write_text(f"-- {name}: applied by `manage.py dbmigrate {self.spec.id}`\n")
        undo.write_text(f"-- undoes {do.name}\n")
        return do, undo


def db_services(using: str | None = None) -> list[ServiceSpec]:
    """Return the registered db services, those on alias ``using`` if given."""
    from platform_core.registry import services

    return [
        spec
        for spec in services
        if spec.kind == "db" and (using is None or alias_for(spec) == using)
    ]


def apply_all(using: str | None = None) -> dict[str, list[Migration]]:
    """Apply the pending migrations of every db service with autoApply on."""
    return {
        spec.id: Migrator(spec).apply()
        for spec in db_services(using)
        if spec.options.auto_apply
    }
