"""Inserts compiled once per shape, then run as plain SQL with new values.

``obj.save(force_insert=True)`` builds and compiles an INSERT for every row,
about half of an insert's cost, much of it while SQLite's write lock is held.
The *shape* of an insert is which columns get a value and which are left to
their database default. The first insert of a shape goes through the ORM
with its SQL captured; the SQL is kept only when it was the only statement
and its parameters equal the ones derived here (each field's
``get_db_prep_save`` of its ``pre_save`` value), so a kept shape is proven to
be the ORM's own statement. Later inserts of the shape derive the parameters,
run the kept SQL and read the returned columns as ``execute_sql`` does::

    inserts = CompiledInserts(model, alias)
    inserts.save(obj)      # as obj.save(force_insert=True, using=alias)

Models with save signal receivers, composite keys and values that are
expressions (other than a database default) always go through the ORM.
"""

from __future__ import annotations

from typing import Any

from django.db import connections
from django.db.models import AutoField
from django.db.models.expressions import DatabaseDefault
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery

VENDORS = frozenset(("sqlite", "postgresql", "mysql"))
MAX_SHAPES = 64  # shapes are subsets of columns: bounded per model


class InsertShape:
    """The kept SQL of one shape and how to read what it returns."""

    __slots__ = ("sql", "returning", "converters")

    def __init__(self, sql: str, returning: list, converters: dict) -> None:
        self.sql = sql
        self.returning = returning
        self.converters = converters


class CompiledInserts:
    """The insert cache of one model on one database alias."""

    def __init__(self, model: Any, alias: str) -> None:
        self.model = model
        self.alias = alias
        self._shapes: dict[tuple, InsertShape | None] = {}

    def save(self, obj) -> None:
        """Insert ``obj`` as ``obj.save(force_insert=True, using=alias)`` does."""
        connection = connections[self.alias]
        plan = self._plan(obj, connection)
        if plan is None:
            return obj.save(force_insert=True, using=self.alias)
        key, params = plan
        shape = self._shapes.get(key, False)
        if shape is None:
            return obj.save(force_insert=True, using=self.alias)
        if shape is False:
            return self._learn(key, obj, params, connection)
        with connection.cursor() as cursor:
            cursor.execute(shape.sql, params)
            row = self._returned(cursor, shape, connection)
        for value, field in zip(row, shape.returning, strict=False):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = self.alias
        return None

    def _plan(self, obj, connection) -> tuple[tuple, tuple] | None:
        """Return (shape key, parameters) of inserting ``obj``, or None."""
        meta = self.model._meta
        if (
            connection.vendor not in VENDORS
            or meta.is_composite_pk
            or obj._state.fields_cache  # related objects: the ORM checks them
            or pre_save.has_listeners(self.model)
            or post_save.has_listeners(self.model)
        ):
            return None
        if not obj._is_pk_set(meta):  # as Model._save_table
            setattr(obj, meta.pk.attname, meta.pk.get_pk_value_on_save(obj))
        pk_set = obj._is_pk_set(meta)
        params, defaults = [], []
        for field in meta.local_concrete_fields:
            if field.generated or (not pk_set and field is meta.auto_field):
                continue
            value = getattr(obj, field.attname)
            if isinstance(value, DatabaseDefault):
                defaults.append(field.attname)
                continue
            if (
                hasattr(value, "resolve_expression")
                or field.pre_save(obj, True) is not value  # e.g. auto_now
            ):
                return None
            params.append(field.get_db_prep_save(value, connection=connection))
        return (pk_set, tuple(defaults)), tuple(params)

    def _learn(self, key: tuple, obj, params: tuple, connection) -> None:
        """Insert through the ORM; keep its SQL when its parameters are ours."""
        captured = []

        def capture(execute, sql, sql_params, many, context):
            captured.append((sql, sql_params))
            return execute(sql, sql_params, many, context)

        with connection.execute_wrapper(capture):
            obj.save(force_insert=True, using=self.alias)
        shape = None
        if len(captured) == 1:
            sql, orm_params = captured[0]
            orm_params = tuple(orm_params or ())
            if orm_params == params and all(
                type(a) is type(b) for a, b in zip(orm_params, params, strict=True)
            ):
                shape = self._shape(sql, connection)
        if len(self._shapes) >= MAX_SHAPES:
            self._shapes.clear()
        self._shapes[key] = shape

    def _shape(self, sql: str, connection) -> InsertShape:
        meta = self.model._meta
        returning = list(meta.db_returning_fields)
        compiler = InsertQuery(self.model).get_compiler(connection=connection)
        columns = [field.get_col(meta.db_table) for field in returning]
        return InsertShape(sql, returning, compiler.get_converters(columns))

    @staticmethod
    def _returned(cursor, shape: InsertShape, connection) -> tuple:
        """The returned columns, read and converted as ``execute_sql`` does."""
        if not shape.returning:
            return ()
        features, ops = connection.features, connection.ops
        if features.can_return_columns_from_insert:
            row = ops.fetch_returned_insert_columns(cursor, ())
        elif isinstance(first := shape.returning[0], AutoField):
            table = first.model._meta.db_table
            row = (ops.last_insert_id(cursor, table, first.column),)
        else:
            return ()
        row = list(row)
        for position, (functions, expression) in shape.converters.items():
            for function in functions:
                row[position] = function(row[position], expression, connection)
        return tuple(row)
