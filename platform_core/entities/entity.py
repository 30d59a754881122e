"""The entities API: find, count, get, insert, save, update, delete.

REST and GraphQL call these and never the ORM. Every write runs in one
transaction, maps database errors to JSON errors and publishes
``<service>.<entity>.saved|deleted`` after commit. ``EntityHooks`` is where
authorization plugs in (a scope ANDed into every query, forced values)::

    products = entities("products")
    products["product"].find(where={"price": {"gt": 10}}, order_by=[("id", "asc")])
    products["product"].insert([{"title": "Dog", "price": "9.50"}])
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from django.db import DataError, IntegrityError, transaction
from django.db.models import Q

from platform_core.entities.body import read_body, require_object
from platform_core.entities.compiled import CompiledReads
from platform_core.entities.errors import write_error
from platform_core.entities.hooks import EntityHooks, forbidden, where_names
from platform_core.entities.inserts import CompiledInserts
from platform_core.entities.values import json_default, to_python
from platform_core.entities.versions import (
    KeyTaken,
    Precondition,
    answer_etag,
    read_etag,
    retry_taken_key,
)
from platform_core.entities.where import build_order, build_where, check_fields
from platform_core.exceptions import (
    INVALID_VALUE,
    READ_ONLY,
    APIError,
    bad_request,
)
from platform_core.introspection import ModelInfo, Schema
from platform_core.registry.events import publish, publishes


class Entity:
    """The operations on one entity of a db service."""

    def __init__(
        self, schema: Schema, info: ModelInfo, hooks: EntityHooks | None = None
    ) -> None:
        self.info = info
        self.alias = schema.alias
        self.event = f"{schema.service}.{info.entity}"
        self.publishes = publishes(schema.service)
        self.hooks = hooks or EntityHooks()
        self._attnames = {f.name: f.attname for f in info.fields.values()}
        self._pk_attnames = [info.fields[name].attname for name in info.primary_key]
        # Left out of every UPDATE: keys are matched, never set, and
        # GENERATED ALWAYS columns cannot be written at all.
        self._fixed = {
            f.attname for f in info.fields.values() if f.primary_key or f.generated
        }
        self._reads = CompiledReads(info.model, self.alias)
        self._inserts = CompiledInserts(info.model, self.alias)

    def names(
        self, fields, operation: str, context: Any, used: Iterable[str] = ()
    ) -> tuple[str, ...]:
        """Return the fields to answer with; 403 when a hidden one is named.

        ``used`` are the other names the caller gave (where, order, body);
        unknown ones are left to the 400 of their own check.
        """
        names = check_fields(self.info, fields)
        allowed = self.hooks.fields(self.info, operation, context)
        if allowed is None:
            return names
        for name in (*(fields or ()), *used):
            if name not in allowed and name in self.info.fields:
                raise forbidden(f'Not allowed to use the field "{name}"')
        return names if fields is not None else tuple(n for n in names if n in allowed)

    def queryset(self, operation: str = "find", context: Any = None):
        """Return the rows ``context`` may touch, on the service's database."""
        manager = self.info.model._default_manager.using(self.alias)
        return manager.filter(self.hooks.scope(self.info, operation, context))

    def _rows(self, queryset, fields: Iterable[str]) -> list[dict]:
        names = tuple(fields)
        pairs = [(name, self._attnames[name]) for name in names]
        return [
            {name: row[attname] for name, attname in pairs}
            for row in queryset.values(*(a for _, a in pairs))
        ]

    def find(
        self,
        where: Mapping | None = None,
        order_by=None,
        fields=None,
        limit: int | None = None,
        offset: int = 0,
        context: Any = None,
        from_text: bool = False,
        condition: Q | None = None,
    ) -> list[dict]:
        """Return matching rows as {field: value}, ordered, one page.

        ``condition`` is an extra Q (relation routes, cursors) ANDed in.
        """
        q = self.hooks.scope(self.info, "find", context) & build_where(
            self.info, where, from_text
        )
        if condition is not None:
            q &= condition
        ordering = build_order(self.info, order_by) or self._pk_attnames
        used = (*where_names(where), *(name for name, _ in order_by or ()))
        names = self.names(fields, "find", context, used)
        return self._read(q, ordering, names, limit, offset)

    def _read(
        self,
        q: Q,
        ordering: list[str],
        names: tuple[str, ...],
        limit: int | None,
        offset: int,
    ) -> list[dict]:
        """Return the rows of ``q`` as {field: value}, through the shape cache."""
        attnames = [self._attnames[name] for name in names]

        def queryset():
            rows = self.info.model._default_manager.using(self.alias).filter(q)
            rows = rows.order_by(*ordering)
            if limit is not None:
                rows = rows[offset : offset + limit]
            elif offset:
                rows = rows[offset:]
            return rows.values_list(*attnames)

        rows = self._reads.rows(queryset, q, ordering, attnames, limit, offset)
        return [dict(zip(names, row, strict=True)) for row in rows]

    def count(
        self,
        where: Mapping | None = None,
        context: Any = None,
        from_text: bool = False,
        condition: Q | None = None,
    ) -> int:
        """Return the number of matching rows."""
        where_q = build_where(self.info, where, from_text)
        self.names(None, "find", context, where_names(where))
        return self.queryset("find", context).filter(where_q, condition or Q()).count()

    def pk_filter(self, key: Mapping[str, Any], from_text: bool = False) -> Q:
        """Return the Q of one primary key given as {field: value}."""
        values = {}
        for name in self.info.primary_key:
            field = self.info.fields[name]
            values[field.attname] = to_python(
                field, key[name], from_text, " in the key"
            )
        return Q(**values)

    def row_of(self, obj) -> dict | None:
        """Return the stored row of model instance ``obj`` (unscoped), or None."""
        rows = self._read(self._key_of(obj), [], tuple(self.info.fields), 1, 0)
        return rows[0] if rows else None

    def get(
        self,
        key: Mapping[str, Any],
        fields=None,
        context: Any = None,
        from_text: bool = False,
    ) -> dict | None:
        """Return the row with primary key ``key``, or None."""
        q = self.hooks.scope(self.info, "find", context) & self.pk_filter(
            key, from_text
        )
        rows = self._read(q, [], self.names(fields, "find", context), 1, 0)
        return rows[0] if rows else None

    # writes

    def _writable(self) -> None:
        if not self.info.writable:
            raise APIError(READ_ONLY, 405, f'"{self.info.plural}" is read-only')

    def _atomic(self, work, in_transaction: bool = True):
        """Run ``work`` in a transaction, its errors mapped to JSON errors."""
        try:
            if not in_transaction:
                return work()
            with transaction.atomic(using=self.alias):
                return work()
        except (IntegrityError, DataError) as exc:
            raise write_error(exc) from None
        except (ValueError, decimal.InvalidOperation) as exc:
            # The ORM refusing a value the checks let through (e.g. MariaDB and
            # an AutoField of 0) is still the client's value.
            raise bad_request(INVALID_VALUE, f"Invalid value: {exc}") from None

    def announce(self, kind: str, rows: list[dict]) -> None:
        """Publish ``<service>.<entity>.<kind>`` for each row once committed.

        Nothing is published when the service sets ``[db] events = false``.
        """
        if not self.publishes:
            return
        event = f"{self.event}.{kind}"
        transaction.on_commit(
            lambda: [publish(event, row) for row in rows], using=self.alias
        )

    def _all(self):
        """Return every row, unscoped (writes apply their own scope)."""
        return self.info.model._default_manager.using(self.alias)

    def _check_allowed(self, allowed: Q, rows: list[Q], count: int | None = None):
        """Raise 403 unless every written row is inside the save rule.

        Called inside the write's transaction, so the write is undone; a row
        moved out of the caller's rule (another tenant) is refused this way.
        """
        if not allowed:
            return
        selected = Q()
        for row in rows:
            selected |= row
        expected = len(rows) if count is None else count
        if self._all().filter(allowed).filter(selected).count() != expected:
            raise forbidden("The row would be outside what you may change")

    def _key_of(self, obj) -> Q:
        return Q(**{a: getattr(obj, a) for a in self._pk_attnames})

    def _keys_q(self, keys: list[tuple]) -> Q:
        """Return the rows whose primary key is one of ``keys`` (tuples)."""
        if len(self._pk_attnames) > 1 and keys:
            return Q(pk__in=keys)
        return Q(**{f"{self._pk_attnames[0]}__in": [key[0] for key in keys]})

    def _read_back(self, objects: list, names: tuple[str, ...]) -> list[dict]:
        """Return the stored rows of ``objects``, in order, with one query."""
        keys = [tuple(getattr(o, a) for a in self._pk_attnames) for o in objects]
        key_names = self.info.primary_key
        select = (*names, *(n for n in key_names if n not in names))
        rows = self._read(self._keys_q(keys), self._pk_attnames, select, None, 0)
        by_key = {tuple(row[n] for n in key_names): row for row in rows}
        return [{n: by_key[key][n] for n in names} for key in keys]

    def _refuse_generated(self, body: Mapping) -> None:
        """Raise 400 naming a GENERATED ALWAYS column the body gives a value."""
        for name in body:
            field = self.info.fields.get(name)
            if field is not None and field.generated:
                raise APIError(
                    READ_ONLY,
                    400,
                    f'"{name}" is generated by the database (GENERATED ALWAYS); '
                    "leave it out of the body",
                )

    def _new(self, body: Mapping, context: Any):
        """Return the unsaved row of ``body``, checked, with forced defaults."""
        require_object(body)
        self._refuse_generated(body)
        attrs = read_body(
            self.info, {**body, **self.hooks.defaults(self.info, context)}, "insert"
        )
        return self.info.model(**attrs)

    def _create(self, body: Mapping, context: Any):
        obj = self._new(body, context)
        self._inserts.save(obj)
        return obj

    def _create_key(self, match: Q, body: Mapping, context: Any):
        """Insert the row of an upsert; KeyTaken when another writer just did.

        The transaction is then rolled back (releasing the locks the failed
        INSERT took) and the upsert run again: it updates that row.
        """
        try:
            with transaction.atomic(using=self.alias):
                return self._create(body, context)
        except IntegrityError:
            if self._all().filter(match).exists():
                raise KeyTaken from None
            raise

    def _versioned(
        self, row: dict, match: Q, names, precondition: Precondition | None, context
    ) -> dict:
        """Return ``row``, with the precondition's ``etag`` set to its ETag."""
        if precondition is not None:
            precondition.etag = answer_etag(self, match, context, row, names)
        return row

    def insert(
        self, rows: list[Mapping], fields=None, context: Any = None
    ) -> list[dict]:
        """Insert ``rows`` in one transaction; return them as stored."""
        self._writable()
        body_names = {name for row in rows if isinstance(row, Mapping) for name in row}
        names = self.names(fields, "save", context, sorted(body_names))
        allowed = self.hooks.scope(self.info, "save", context)

        # Checked before the transaction: SQLite holds its write lock less.
        objects = self._atomic(
            lambda: [self._new(row, context) for row in rows], in_transaction=False
        )

        def work():
            for obj in objects:
                self._inserts.save(obj)
            self._check_allowed(allowed, [self._key_of(o) for o in objects])
            return self._read_back(objects, names)

        stored = self._atomic(work)
        self.announce("saved", stored)
        return stored

    def update(
        self,
        key: Mapping[str, Any],
        body: Mapping,
        partial: bool,
        fields=None,
        context: Any = None,
        upsert: bool = False,
        from_text: bool = False,
        precondition: Precondition | None = None,
    ) -> tuple[dict | None, bool]:
        """Update (PATCH) or replace (PUT) the row ``key``; return (row, created).

        With ``upsert`` a missing row is inserted with that key; one inserted
        meanwhile by another writer is updated instead. A row the caller
        cannot see is missing; one it sees but may not change is 403. With a
        ``precondition`` its If-Match is checked on the locked row (412) and
        its ``etag`` set to the written row's.
        """
        require_object(body)
        self._writable()
        names = self.names(fields, "save", context, list(body))
        match = self.pk_filter(key, from_text)
        typed_key = {
            name: to_python(self.info.fields[name], key[name], from_text)
            for name in self.info.primary_key
        }
        for name, value in body.items():
            if (
                name in typed_key
                and to_python(self.info.fields[name], value) != typed_key[name]
            ):
                raise APIError(
                    "PRIMARY_KEY_MISMATCH",
                    400,
                    f'"{name}" in the body differs from the key in the path',
                )
        self._refuse_generated({n: v for n, v in body.items() if n not in typed_key})
        # The key as a JSON body carries it (a uuid as text), for read_body.
        body_key = orjson.loads(orjson.dumps(typed_key, default=json_default))
        attrs = read_body(
            self.info, {**body, **body_key}, "patch" if partial else "replace"
        )
        changes = {a: v for a, v in attrs.items() if a not in self._fixed}

        allowed = self.hooks.scope(self.info, "save", context)

        def work():
            seen = self.hooks.scope(self.info, "find", context)
            present = self._all().filter(match).exists()
            visible = present and (not seen or self._all().filter(seen, match).exists())
            checks = precondition is not None and precondition.checks
            if checks and (visible or (upsert and not present)):
                etag = read_etag(self, match, context, lock=True) if visible else None
                precondition.check(etag)
            if not visible:
                if not upsert or present:
                    return None, False  # missing, or hidden from the caller
                obj = self._create_key(match, {**body, **body_key}, context)
                self._check_allowed(allowed, [self._key_of(obj)])
                row = self._rows(self._all().filter(self._key_of(obj)), names)[0]
                return self._versioned(row, match, names, precondition, context), True
            rows = self._all().filter(allowed, match)
            changed = rows.update(**changes) if changes else rows.count()
            if not changed:
                raise forbidden("Not allowed to change this row")
            self._check_allowed(allowed, [match])
            row = self._rows(self._all().filter(match), names)[0]
            return self._versioned(row, match, names, precondition, context), False

        row, created = retry_taken_key(lambda: self._atomic(work))
        if row is not None:
            self.announce("saved", [row])
        return row, created

    def update_where(
        self,
        where: Mapping,
        body: Mapping,
        fields=None,
        context: Any = None,
        from_text: bool = False,
    ) -> list[dict]:
        """Update every matching row with ``body``; return them."""
        self._writable()
        require_object(body)
        names = self.names(fields, "save", context, [*where_names(where), *body])
        self._refuse_generated(body)
        attrs = read_body(self.info, body, "patch")
        condition = build_where(self.info, where, from_text)
        allowed = self.hooks.scope(self.info, "save", context)

        def work():
            # Locked: a row another writer changed meanwhile is matched
            # against its new values (PostgreSQL re-checks the condition,
            # InnoDB reads the latest version), so a compare-and-set
            # (where.version.eq=3) lets exactly one writer through.
            locked = self._all().filter(allowed, condition).select_for_update()
            keys = list(locked.values_list(*self._pk_attnames))
            matched = self._keys_q(keys)
            self._all().filter(matched).update(**attrs)
            self._check_allowed(allowed, [matched], len(keys))
            return self._rows(
                self._all().filter(matched).order_by(*self._pk_attnames), names
            )

        rows = self._atomic(work)
        self.announce("saved", rows)
        return rows

    def delete(
        self,
        where: Mapping | None = None,
        key: Mapping | None = None,
        fields=None,
        context: Any = None,
        from_text: bool = False,
        precondition: Precondition | None = None,
    ) -> list[dict]:
        """Delete the row ``key`` or the rows matching ``where``; return them.

        With a ``precondition`` (one row), its If-Match is checked on the
        locked row first (412).
        """
        self._writable()
        names = self.names(fields, "delete", context, where_names(where))
        condition = (
            self.pk_filter(key, from_text)
            if key is not None
            else build_where(self.info, where, from_text)
        )

        def work():
            if precondition is not None and precondition.checks and key is not None:
                etag = read_etag(self, condition, context, lock=True)
                if etag is not None:  # a missing row stays a 404
                    precondition.check(etag)
            queryset = self.queryset("delete", context).filter(condition)
            rows = self._rows(queryset.order_by(*self._pk_attnames), names)
            if rows:
                queryset.delete()
            elif key is not None and (
                self.queryset("find", context).filter(condition).exists()
            ):
                raise forbidden("Not allowed to delete this row")
            return rows

        rows = self._atomic(work)
        self.announce("deleted", rows)
        return rows
