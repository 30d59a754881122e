"""Reads compiled once per shape, then run as plain SQL with new values.

Building and compiling an ORM query is most of the cost of a small read. A
*shape* is a read without its values: the selected columns, the filter's
lookups (with which values are null and how long each ``in`` list is), the
ordering, limit and offset. The first read of a shape is compiled by the ORM;
its SQL and column converters are kept only when the parameters the ORM
produced equal those derived here from the same filter, so a shape is cached
only once it is proven to give the ORM's own query. Later reads of the shape
derive the parameters and run the kept SQL; anything else (expressions,
lookups outside the list below) always goes through the ORM::

    reads = CompiledReads(model, alias)
    rows = reads.rows(queryset, q, ("-price",), ("id", "price"), 10, 0)
"""

from __future__ import annotations

import datetime
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections
from django.db.models import Q
from django.utils.dateparse import parse_datetime

CACHEABLE_LOOKUPS = frozenset(
    ("exact", "gt", "gte", "lt", "lte", "in", "isnull", "like", "ilike")
)
# Lookups whose value Django prepares with the field's get_db_prep_value;
# like/ilike only get get_prep_value.
_DB_PREPARED = frozenset(("exact", "gt", "gte", "lt", "lte", "in"))
MAX_SHAPES = 512  # per entity; offsets make shapes, so the cache is bounded


class NotCacheable(Exception):
    """The filter holds something the shape cache does not derive."""


class Shape:
    """The kept SQL of one shape and how to turn its rows into dicts.

    ``qmark_sql``: on SQLite, the SQL as Django's cursor rewrites it for the
    driver on every call (``%s`` to ``?``), rewritten once here.
    """

    __slots__ = ("sql", "names", "converters", "qmark_sql")

    def __init__(
        self, sql: str, names: tuple[str, ...], converters: dict, qmark_sql=None
    ) -> None:
        self.sql = sql
        self.names = names
        self.converters = converters
        self.qmark_sql = qmark_sql


class CompiledReads:
    """The shape cache of one model on one database alias."""

    def __init__(self, model: Any, alias: str) -> None:
        self.alias = alias
        self._fields = {f.attname: f for f in model._meta.concrete_fields}
        self._shapes: dict[tuple, Shape | None] = {}

    def rows(
        self,
        queryset: Callable[[], Any],
        q: Q,
        ordering: Sequence[str],
        attnames: Sequence[str],
        limit: int | None,
        offset: int,
    ) -> list[tuple]:
        """Return the rows of the read as tuples of ``attnames``' values.

        ``queryset()`` returns the ORM's version of the read (filtered by
        ``q``, ordered, sliced, ``values_list(*attnames)``); it runs when the
        shape is new or not cacheable.
        """
        try:
            values: list[tuple[Any, str, list]] = []
            key = (
                self._walk(q, values),
                tuple(ordering),
                tuple(attnames),
                limit,
                offset,
            )
        except NotCacheable:
            return list(queryset())
        shape = self._shapes.get(key, False)
        if shape is None:  # proven not cacheable
            return list(queryset())
        connection = connections[self.alias]
        params = self._params(values, connection)
        if shape is False:
            shape = self._compile(key, queryset(), params, connection)
            if shape is None:
                return list(queryset())
        with connection.cursor() as cursor:
            rows = _fetch(cursor, shape, params, connection)
        return self._convert(rows, shape, connection) if shape.converters else rows

    def _walk(self, q: Q, values: list) -> tuple:
        """Return the shape of ``q``; append (field, lookup, values) to ``values``."""
        parts = []
        for child in q.children:
            if isinstance(child, Q):
                parts.append(self._walk(child, values))
                continue
            path, value = child
            attname, _, lookup = path.partition("__")
            lookup = lookup or "exact"
            field = self._fields.get(attname)
            if (
                field is None
                or lookup not in CACHEABLE_LOOKUPS
                or hasattr(value, "resolve_expression")
            ):
                raise NotCacheable(path)
            if lookup == "isnull" or (lookup == "exact" and value is None):
                parts.append((attname, "isnull", value is None or bool(value)))
                continue
            if value is None:
                raise NotCacheable(path)
            if lookup == "in":
                try:
                    items = list(dict.fromkeys(value))  # the ORM drops repeats
                except TypeError:
                    raise NotCacheable(path) from None
                if not items or None in items:
                    raise NotCacheable(path)
                parts.append((attname, "in", len(items)))
                values.append((field, lookup, items))
                continue
            parts.append((attname, lookup))
            values.append((field, lookup, [value]))
        return (q.connector, q.negated, tuple(parts))

    @staticmethod
    def _params(values: list, connection) -> list:
        params = []
        for field, lookup, items in values:
            prepared = [field.get_prep_value(item) for item in items]
            if lookup in _DB_PREPARED:
                target = getattr(field, "target_field", None) or field
                prepared = [
                    target.get_db_prep_value(item, connection, prepared=True)
                    for item in prepared
                ]
            params.extend(prepared)
        return params

    def _compile(self, key: tuple, queryset, params: list, connection) -> Shape | None:
        """Compile ``queryset``; keep its SQL when its parameters are ``params``."""
        compiler = queryset.query.get_compiler(using=self.alias)
        try:
            sql, orm_params = compiler.as_sql()
        except (EmptyResultSet, FullResultSet):
            shape = None
        else:
            matches = list(orm_params) == params and all(
                type(a) is type(b) for a, b in zip(orm_params, params, strict=True)
            )
            columns = [column for column, _, _ in compiler.select[: compiler.col_count]]
            converters = _faster(compiler.get_converters(columns), connection)
            qmark = None
            if connection.vendor == "sqlite":
                with connection.cursor() as cursor:
                    qmark = cursor.cursor.convert_query(sql)
            shape = Shape(sql, key[2], converters, qmark) if matches else None
        if len(self._shapes) >= MAX_SHAPES:
            self._shapes.clear()
        self._shapes[key] = shape
        return shape

    @staticmethod
    def _convert(rows: list, shape: Shape, connection) -> list[tuple]:
        converters = shape.converters.items()
        converted = []
        for row in rows:
            row = list(row)
            for position, (functions, expression) in converters:
                value = row[position]
                for function in functions:
                    value = function(value, expression, connection)
                row[position] = value
            converted.append(tuple(row))
        return converted


def _fetch(cursor, shape: Shape, params: list, connection) -> list:
    """Run the shape's SQL; return its rows.

    On SQLite the kept ``?`` form goes straight to the driver, as Django's
    cursor would send it, with Django's error mapping; when queries are
    logged or wrapped (debug, tests counting them) Django's cursor runs it.
    """
    if (
        shape.qmark_sql is None
        or connection.queries_logged
        or connection.execute_wrappers
    ):
        cursor.execute(shape.sql, params)
        return cursor.fetchall()
    connection.validate_no_broken_transaction()
    driver_cursor = cursor.cursor
    with connection.wrap_database_errors:
        sqlite3.Cursor.execute(driver_cursor, shape.qmark_sql, params)
        return driver_cursor.fetchall()


def _faster(converters: dict, connection) -> dict:
    """Swap Django's SQLite date-time converter for an equal, cheaper one.

    It reads settings.USE_TZ on every value; here that is read once. The
    result is the same: text parsed, naive values given the connection's zone.
    ``AwareDateTimeField.from_db_value`` after it has nothing left to do (the
    value is aware), so it is dropped.
    """
    if connection.vendor != "sqlite" or not settings.USE_TZ:
        return converters
    from django.db.backends.sqlite3.operations import DatabaseOperations

    from platform_core.db.models import AwareDateTimeField

    slow = DatabaseOperations.convert_datetimefield_value
    after = AwareDateTimeField.from_db_value
    zone = connection.timezone

    def aware(value, expression, connection):
        if value is not None:
            if not isinstance(value, datetime.datetime):
                value = parse_datetime(value)
            if value.tzinfo is None:
                value = value.replace(tzinfo=zone)
        return value

    faster = {}
    for position, (functions, expression) in converters.items():
        swapped = [aware if _method(f) is slow else f for f in functions]
        if aware in swapped:
            swapped = [f for f in swapped if _method(f) is not after]
        faster[position] = (swapped, expression)
    return faster


def _method(function) -> Callable | None:
    """The plain function behind a bound method (None for other callables)."""
    return getattr(function, "__func__", None)
