"""Read the tables and views of a database into plain descriptions.

Django's introspection API answers per engine; this module adds what it
lacks (PostgreSQL array element types, MariaDB ``tinyint(1)`` booleans, the
database types registered in ``fieldtypes``) and returns frozen ``Table``
descriptions that ``db.models`` turns into models::

    with connection.cursor() as cursor:
        for table in read_tables(connection, cursor, names={"orders"}):
            table.primary_key, table.foreign_keys
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from platform_core.fieldtypes import fieldtypes

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
    "int": "BigIntegerField",
    "boolean": "BooleanField",
    "bool": "BooleanField",
}
# MariaDB types Django's introspection does not know.
MYSQL_TYPES = {"year": "SmallIntegerField"}
_SQLITE_WIDE = {"IntegerField": "BigIntegerField", "AutoField": "BigAutoField"}
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
    generated: bool = False  # GENERATED ALWAYS (identity or expression)


@dataclass(frozen=True)
class ForeignKey:
    """A single-column foreign key."""

    column: str
    to_table: str
    to_column: str


@dataclass(frozen=True)
class CompositeForeignKey:
    """A foreign key of several columns, paired in order with the parent's."""

    columns: tuple[str, ...]
    to_table: str
    to_columns: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A table or view with its columns and keys."""

    name: str
    view: bool
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...]
    unique: tuple[tuple[str, ...], ...]
    composite_keys: tuple[CompositeForeignKey, ...] = ()
    # False when INSERT ... RETURNING is refused (PostgreSQL INSTEAD rules)
    returning: bool = True

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
    if connection.vendor == "sqlite":
        description = _sqlite_description(connection, cursor, name)
        constraints = _sqlite_constraints(connection, cursor, name)
    else:
        description = connection.introspection.get_table_description(cursor, name)
        constraints = (
            extras.get("constraints", {}).get(name)
            if "constraints" in extras
            else connection.introspection.get_constraints(cursor, name)
        )
    constraints = constraints or {}
    primary_key: tuple[str, ...] = ()
    unique, foreign_keys = [], []
    composite = list(extras.get("composite_keys", {}).get(name, ()))
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
        elif constraint.get("foreign_key") and constraint.get("to_columns"):
            key = CompositeForeignKey(
                columns,
                constraint["foreign_key"][0],
                tuple(constraint["to_columns"]),
            )
            if key not in composite:
                composite.append(key)
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
        tuple(sorted(composite, key=lambda fk: fk.columns)),
        name not in extras.get("instead_of_insert", ()),
    )


def _column(connection, table: str, row, extras: dict) -> Column:
    array_of = extras.get("arrays", {}).get((table, row.name))
    field_type, size, scale = _declared(connection, row, extras)
    field_type = _registered(connection, row, extras) or field_type
    if (table, row.name) in extras.get("booleans", ()):
        field_type = "BooleanField"
    if (table, row.name) in extras.get("binaries", ()):
        field_type = "BinaryField"  # Django reads MariaDB BLOBs as text
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
    generated = (table, row.name) in extras.get("generated", ())
    return Column(
        name=row.name,
        field_type=field_type,
        null=bool(row.null_ok),
        has_default=default is not None or generated,
        generated=generated,
        auto=field_type in AUTO_FIELDS,
        max_length=size if field_type == "CharField" and size else None,
        # None: NUMERIC with no declared precision (values keep their scale)
        max_digits=size if decimal and size else None,
        decimal_places=(scale or 0) if decimal and size else None,
        array_of=array_of,
        default=default,
    )


def _declared(
    connection, row, extras: dict
) -> tuple[str | None, int | None, int | None]:
    """Return (field type, size, scale) of a column; type None if unknown."""
    if connection.vendor == "sqlite":
        match = _SIZE_RE.match(str(row.type_code).lower())
        if match and match[1] in SQLITE_TYPES and not row.pk:
            size, scale = match[2], match[3]
            return SQLITE_TYPES[match[1]], size and int(size), scale and int(scale)
    domains = extras.get("domains", {})
    if row.type_code in domains and connection.vendor == "postgresql":
        row = row._replace(type_code=domains[row.type_code])  # its base type
    if getattr(row, "has_json_constraint", False) and row.data_type != "longtext":
        # Django's MariaDB query for JSON_VALID() checks joins its strings
        # with "+" (a number there), so any check constraint named after its
        # column matches; MariaDB's JSON is LONGTEXT, so only that is JSON.
        row = row._replace(has_json_constraint=False)
    try:
        field_type = connection.introspection.get_field_type(row.type_code, row)
    except KeyError:
        field_type = MYSQL_TYPES.get(getattr(row, "data_type", None))
    if connection.vendor == "sqlite":
        # SQLite stores every INTEGER in 64 bits.
        field_type = _SQLITE_WIDE.get(field_type, field_type)
    if connection.vendor == "sqlite":
        match = _SIZE_RE.match(str(row.type_code).lower())
        size = match and match[2] and int(match[2])
        scale = match and match[3] and int(match[3])
        return field_type, size, scale
    if field_type == "DecimalField":
        return field_type, row.precision, row.scale
    size = row.display_size or row.internal_size
    return field_type, size if size and size > 0 else None, None


def _registered(connection, row, extras: dict) -> str | None:
    """Return the field class ``fieldtypes`` registers for the column's type.

    Registered database types (``db_types=("inet",)``) win over Django's
    reading of the column.
    """
    if not fieldtypes.db_types:
        return None
    if connection.vendor == "postgresql":  # type codes are OIDs
        return extras.get("types", {}).get(row.type_code)
    if connection.vendor == "sqlite":
        match = _SIZE_RE.match(str(row.type_code).lower())
        return match and fieldtypes.column_field_type(match[1])
    return fieldtypes.column_field_type(getattr(row, "data_type", None) or "")


def _sqlite_description(connection, cursor, table: str) -> list:
    """Describe columns with PRAGMA table_info (no SQL parsing: fast)."""
    from django.db.backends.sqlite3.introspection import FieldInfo as SQLiteFieldInfo

    cursor.execute(f"PRAGMA table_info({connection.ops.quote_name(table)})")
    rows = cursor.fetchall()
    keys = [row for row in rows if row[5]]
    rowid = keys[0][1] if len(keys) == 1 and keys[0][2].upper() == "INTEGER" else None
    return [
        SQLiteFieldInfo(
            name,
            type_code,
            None,
            None,
            None,
            None,
            not notnull,
            default,
            None,
            name == rowid,
            False,
        )
        for _, name, type_code, notnull, default, _ in rows
    ]


def _sqlite_constraints(connection, cursor, table: str) -> dict:
    """Return primary key, unique and foreign keys from SQLite's PRAGMAs."""
    quoted = connection.ops.quote_name(table)
    cursor.execute(f"PRAGMA table_info({quoted})")
    key = [row[1] for row in sorted(cursor.fetchall(), key=lambda r: r[5]) if row[5]]
    result: dict = {}
    if key:
        result["__primary__"] = {"columns": key, "primary_key": True}
    cursor.execute(f"PRAGMA foreign_key_list({quoted})")
    for ident, _, to_table, column, to_column, *_ in cursor.fetchall():
        if to_column is None:  # REFERENCES parent: the parent's primary key
            parent = _sqlite_constraints(connection, cursor, to_table).get(
                "__primary__"
            )
            done = len(result.get(f"__fk_{ident}", {}).get("columns", ()))
            to_column = parent["columns"][done] if parent else "rowid"
        entry = result.setdefault(
            f"__fk_{ident}",
            {"columns": [], "foreign_key": (to_table, to_column), "to_columns": []},
        )
        entry["columns"].append(column)
        entry["to_columns"].append(to_column)
    cursor.execute(f"PRAGMA index_list({quoted})")
    for _, name, unique, origin, *_ in cursor.fetchall():
        if unique and origin != "pk":
            cursor.execute(f"PRAGMA index_info({connection.ops.quote_name(name)})")
            columns = [row[2] for row in sorted(cursor.fetchall())]
            result[name] = {"columns": columns, "unique": True}
    return result


def _postgresql_extras(cursor) -> dict:
    cursor.execute(
        "SELECT table_name, column_name, udt_name FROM information_schema.columns "
        "WHERE table_schema = ANY(current_schemas(false)) AND data_type = 'ARRAY'"
    )
    extras: dict = {
        "arrays": {
            (table, column): fieldtypes.column_field_type(udt[1:])
            or PG_ARRAY_ELEMENTS.get(udt[1:], "TextField")
            for table, column, udt in cursor.fetchall()
        }
    }
    extras["generated"] = _pg_generated(cursor)
    cursor.execute(
        "SELECT c.relname FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class"
        " WHERE r.ev_type = '3' AND r.is_instead"
    )
    extras["instead_of_insert"] = {name for (name,) in cursor.fetchall()}
    extras["composite_keys"] = _pg_composite_keys(cursor)
    # Domains (CREATE DOMAIN year AS integer) read as their base type.
    cursor.execute("SELECT oid, typbasetype FROM pg_type WHERE typtype = 'd'")
    extras["domains"] = dict(cursor.fetchall())
    if fieldtypes.db_types:
        cursor.execute(
            "SELECT oid, typname FROM pg_type WHERE typname = ANY(%s)",
            [list(fieldtypes.db_types)],
        )
        extras["types"] = {
            oid: fieldtypes.column_field_type(name) for oid, name in cursor.fetchall()
        }
    return extras


def _pg_generated(cursor) -> set:
    """Return (table, column) of GENERATED ALWAYS identity and expression columns."""
    cursor.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = ANY(current_schemas(false)) "
        "AND (identity_generation = 'ALWAYS' OR is_generated = 'ALWAYS')"
    )
    return {(table, column) for table, column in cursor.fetchall()}


def _pg_composite_keys(cursor) -> dict:
    """Return the foreign keys of several columns, by table.

    Django's introspection gives only the first column a key points to.
    """
    cursor.execute(
        "SELECT cl.relname, fcl.relname,"
        " array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)"
        "  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n"
        "  ORDER BY k.i),"
        " array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)"
        "  JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n"
        "  ORDER BY k.i)"
        " FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid"
        " JOIN pg_class fcl ON fcl.oid = c.confrelid"
        " JOIN pg_namespace ns ON ns.oid = cl.relnamespace"
        " WHERE c.contype = 'f' AND array_length(c.conkey, 1) > 1"
        " AND ns.nspname = ANY(current_schemas(false))"
    )
    result: dict = {}
    for table, to_table, columns, to_columns in cursor.fetchall():
        result.setdefault(table, []).append(
            CompositeForeignKey(tuple(columns), to_table, tuple(to_columns))
        )
    return result


def _mysql_extras(cursor) -> dict:
    cursor.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = DATABASE() AND extra LIKE '%GENERATED%'"
        " AND extra NOT LIKE '%DEFAULT_GENERATED%'"
    )
    generated = set(cursor.fetchall())
    cursor.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = DATABASE() AND data_type IN "
        "('tinyblob', 'blob', 'mediumblob', 'longblob', 'binary', 'varbinary')"
    )
    return {
        "binaries": set(cursor.fetchall()),
        "booleans": _mysql_booleans(cursor),
        "constraints": _mysql_constraints(cursor),
        "generated": generated,
    }


def _mysql_constraints(cursor) -> dict:
    """Read every table's keys in one query (Django asks ~11 per table)."""
    cursor.execute(
        "SELECT tc.table_name, tc.constraint_name, tc.constraint_type, kcu.column_name,"
        " kcu.referenced_table_name, kcu.referenced_column_name"
        " FROM information_schema.table_constraints tc"
        " JOIN information_schema.key_column_usage kcu"
        " ON kcu.constraint_schema = tc.constraint_schema"
        " AND kcu.constraint_name = tc.constraint_name"
        " AND kcu.table_name = tc.table_name"
        " WHERE tc.table_schema = DATABASE()"
        " AND tc.constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')"
        " ORDER BY tc.table_name, tc.constraint_name, kcu.ordinal_position"
    )
    result: dict = {}
    for table, name, kind, column, to_table, to_column in cursor.fetchall():
        entry = result.setdefault(table, {}).setdefault(
            f"{kind}:{name}",
            {
                "columns": [],
                "primary_key": kind == "PRIMARY KEY",
                "unique": kind != "FOREIGN KEY",
                "foreign_key": (to_table, to_column) if kind == "FOREIGN KEY" else None,
                "to_columns": [],
            },
        )
        entry["columns"].append(column)
        entry["to_columns"].append(to_column)
    return result


def _mysql_booleans(cursor) -> set:
    cursor.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = DATABASE() AND column_type = 'tinyint(1)'"
    )
    return {(table, column) for table, column in cursor.fetchall()}


_ENGINE_EXTRAS = {"postgresql": _postgresql_extras, "mysql": _mysql_extras}
