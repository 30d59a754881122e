"""Read the tables and views of a database into plain descriptions.

Django's introspection API answers per engine; this module adds what it
lacks (PostgreSQL array element types, MariaDB ``tinyint(1)`` booleans) and
returns frozen ``Table`` descriptions that ``db.models`` turns into models::

    with connection.cursor() as cursor:
        for table in read_tables(connection, cursor, names={"orders"}):
            table.primary_key, table.foreign_keys
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

logger = logging.getLogger("joule.db")

AUTO_FIELDS = {"AutoField", "BigAutoField", "SmallAutoField"}
# PostgreSQL array element types (udt_name without the leading "_").
PG_ARRAY_ELEMENTS = {
    "int2": "SmallIntegerField",
    "int4": "IntegerField",
    "int8": "BigIntegerField",
    "text": "TextField",
    "varchar": "CharField",
    "bpchar": "CharField",
    "bool": "BooleanField",
    "float4": "FloatField",
    "float8": "FloatField",
    "numeric": "DecimalField",
    "uuid": "UUIDField",
    "date": "DateField",
    "timestamp": "DateTimeField",
    "timestamptz": "DateTimeField",
    "jsonb": "JSONField",
    "json": "JSONField",
}

# SQLite keeps the declared type; Django's table misses these names.
SQLITE_TYPES = {
    "timestamp": "DateTimeField",
    "timestamptz": "DateTimeField",
    "json": "JSONField",
    "jsonb": "JSONField",
    "uuid": "CharField",
    "numeric": "DecimalField",
    "double": "FloatField",
    "double precision": "FloatField",
    "int": "IntegerField",
    "boolean": "BooleanField",
    "bool": "BooleanField",
}
_SIZE_RE = re.compile(r"^\s*([a-z ]+?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$")


@dataclass(frozen=True)
class Column:
    """One column: its Django field type and constraints."""

    name: str
    field_type: str
    null: bool
    has_default: bool = False
    auto: bool = False
    max_length: int | None = None
    max_digits: int | None = None
    decimal_places: int | None = None
    array_of: str | None = None
    default: str | None = None


@dataclass(frozen=True)
class ForeignKey:
    """A single-column foreign key."""

    column: str
    to_table: str
    to_column: str


@dataclass(frozen=True)
class Table:
    """A table or view with its columns and keys."""

    name: str
    view: bool
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...]
    unique: tuple[tuple[str, ...], ...]

    def column(self, name: str) -> Column:
        """Return the column ``name``."""
        return next(c for c in self.columns if c.name == name)


def table_names(
    connection, cursor, exclude: Iterable[str] = ()
) -> list[tuple[str, bool]]:
    """Return (name, is_view) of every table and view, minus ``exclude``."""
    excluded = set(exclude)
    return [
        (info.name, info.type == "v")
        for info in connection.introspection.get_table_list(cursor)
        if info.name not in excluded
    ]


def read_tables(connection, cursor, names: Iterable[tuple[str, bool]]) -> list[Table]:
    """Return the descriptions of the tables and views ``names``."""
    extras = _ENGINE_EXTRAS.get(connection.vendor, lambda cursor: {})(cursor)
    return [
        _read_table(connection, cursor, name, view, extras)
        for name, view in sorted(names)
    ]


def _read_table(connection, cursor, name: str, view: bool, extras: dict) -> Table:
    introspection = connection.introspection
    description = introspection.get_table_description(cursor, name)
    constraints = introspection.get_constraints(cursor, name)
    primary_key: tuple[str, ...] = ()
    unique, foreign_keys = [], []
    for constraint in constraints.values():
        columns = tuple(constraint["columns"])
        if constraint.get("primary_key"):
            primary_key = columns
        elif constraint.get("unique"):
            unique.append(columns)
        if constraint.get("foreign_key") and len(columns) == 1:
            key = ForeignKey(columns[0], *constraint["foreign_key"])
            if key not in foreign_keys:  # MariaDB may report one twice
                foreign_keys.append(key)
    columns = tuple(_column(connection, name, row, extras) for row in description)
    # SQLite reports INTEGER PRIMARY KEY as nullable; a key never is.
    columns = tuple(
        replace(c, null=False) if c.name in primary_key else c for c in columns
    )
    return Table(
        name,
        view,
        columns,
        primary_key,
        tuple(sorted(foreign_keys, key=lambda fk: fk.column)),
        tuple(sorted(unique)),
    )


def _column(connection, table: str, row, extras: dict) -> Column:
    array_of = extras.get("arrays", {}).get((table, row.name))
    field_type, size, scale = _declared(connection, row)
    if (table, row.name) in extras.get("booleans", ()):
        field_type = "BooleanField"
    if array_of is not None:
        field_type = "ArrayField"
    if field_type is None:
        field_type = "TextField"
        logger.warning(
            "%s.%s: unknown column type %r, read as text",
            table,
            row.name,
            row.type_code,
        )
    default = None if row.default in (None, "NULL") else str(row.default)
    decimal = field_type == "DecimalField"
    return Column(
        name=row.name,
        field_type=field_type,
        null=bool(row.null_ok),
        has_default=default is not None,
        auto=field_type in AUTO_FIELDS,
        max_length=size if field_type == "CharField" and size else None,
        # None: NUMERIC with no declared precision (values keep their scale)
        max_digits=size if decimal and size else None,
        decimal_places=(scale or 0) if decimal and size else None,
        array_of=array_of,
        default=default,
    )


def _declared(connection, row) -> tuple[str | None, int | None, int | None]:
    """Return (field type, size, scale) of a column; type None if unknown."""
    if connection.vendor == "sqlite":
        match = _SIZE_RE.match(str(row.type_code).lower())
        if match and match[1] in SQLITE_TYPES and not row.pk:
            size, scale = match[2], match[3]
            return SQLITE_TYPES[match[1]], size and int(size), scale and int(scale)
    try:
        field_type = connection.introspection.get_field_type(row.type_code, row)
    except KeyError:
        field_type = None
    if connection.vendor == "sqlite":
        match = _SIZE_RE.match(str(row.type_code).lower())
        size = match and match[2] and int(match[2])
        scale = match and match[3] and int(match[3])
        return field_type, size, scale
    if field_type == "DecimalField":
        return field_type, row.precision, row.scale
    size = row.display_size or row.internal_size
    return field_type, size if size and size > 0 else None, None


def _postgresql_extras(cursor) -> dict:
    cursor.execute(
        "SELECT table_name, column_name, udt_name FROM information_schema.columns "
        "WHERE table_schema = ANY(current_schemas(false)) AND data_type = 'ARRAY'"
    )
    return {
        "arrays": {
            (table, column): PG_ARRAY_ELEMENTS.get(udt[1:], "TextField")
            for table, column, udt in cursor.fetchall()
        }
    }


def _mysql_extras(cursor) -> dict:
    cursor.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = DATABASE() AND column_type = 'tinyint(1)'"
    )
    return {"booleans": {(table, column) for table, column in cursor.fetchall()}}


_ENGINE_EXTRAS = {"postgresql": _postgresql_extras, "mysql": _mysql_extras}
