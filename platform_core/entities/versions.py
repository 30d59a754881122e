"""Row versions for optimistic concurrency, and upserts that survive a race.

A row's version is its ETag: the value of a ``version`` column when the
table has one, else a strong hash of the row's JSON (the fields the caller
may read). ``Precondition`` carries a write's ``If-Match`` into the entities
API, where it is checked inside the write's transaction with the row locked
(``SELECT ... FOR UPDATE``), and carries the written row's ETag back::

    precondition = Precondition(if_match=('"3"',))
    row, created = entity.update(key, body, partial=True, precondition=precondition)
    precondition.etag          # '"4"': the ETag of the row as written

``retry_taken_key`` reruns an upsert whose INSERT lost the race for its key
to a concurrent one, so the second caller updates the row instead (409 only
after repeated losses).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from platform_core.entities.values import json_default
from platform_core.exceptions import APIError
from platform_core.introspection import ModelInfo

PRECONDITION_FAILED = "PRECONDITION_FAILED"
CONFLICT = "CONFLICT"
# The column whose value is the row's ETag when the table has one.
VERSION_FIELD = "version"
# Attempts of an upsert whose INSERT keeps losing its key to other writers.
UPSERT_ATTEMPTS = 4

T = TypeVar("T")


def row_etag(info: ModelInfo, row: Mapping[str, Any]) -> str:
    """Return the strong ETag (quoted) of ``row``, a {field: value} of ``info``.

    The ``version`` column's value when the table has one, else the SHA-256
    of the row's JSON with sorted keys.
    """
    if VERSION_FIELD in info.fields and VERSION_FIELD in row:
        return f'"{row[VERSION_FIELD]}"'
    data = orjson.dumps(row, default=json_default, option=orjson.OPT_SORT_KEYS)
    return f'"{hashlib.sha256(data).hexdigest()}"'


@dataclass
class Precondition:
    """What a write of one row checks first, and the ETag it leaves.

    ``if_match``: the tags of ``If-Match`` (quoted, or ``("*",)``); None
    when the header is absent. ``etag`` is set by the write to the ETag of
    the row it answers with.
    """

    if_match: tuple[str, ...] | None = None
    etag: str | None = None

    @property
    def checks(self) -> bool:
        """Return whether there is an If-Match to check."""
        return self.if_match is not None

    def matches(self, etag: str | None) -> bool:
        """Return whether ``If-Match`` allows a row whose ETag is ``etag``.

        A missing row (``etag`` None) matches nothing, not even ``*``
        (RFC 9110, 13.1.1); tags compare strongly, so a weak one never does.
        """
        if self.if_match is None:
            return True
        if etag is None:
            return False
        return "*" in self.if_match or etag in self.if_match

    def check(self, etag: str | None) -> None:
        """Raise 412 PRECONDITION_FAILED unless ``If-Match`` allows ``etag``."""
        if not self.matches(etag):
            current = (
                "the row does not exist" if etag is None else f"its ETag is {etag}"
            )
            raise APIError(
                PRECONDITION_FAILED,
                412,
                f"If-Match does not match the row ({current}); read it again "
                "and retry with its current ETag",
            )


class KeyTaken(Exception):
    """An upsert's INSERT failed because another writer inserted the key first."""


def retry_taken_key(work: Callable[[], T], attempts: int = UPSERT_ATTEMPTS) -> T:
    """Return ``work()``, run again (a new transaction) while it raises KeyTaken.

    Raise 409 CONFLICT when every attempt lost the key (the row is created
    and deleted again by others meanwhile).
    """
    for _ in range(attempts):
        try:
            return work()
        except KeyTaken:
            continue
    raise APIError(
        CONFLICT,
        409,
        "The row was created and removed by other writers meanwhile; retry",
    )


def read_etag(entity: Any, match: Any, context: Any, lock: bool = False) -> str | None:
    """Return the ETag of the row ``match`` as ``context`` reads it, or None.

    ``entity`` is an ``Entity``; with ``lock`` the row is locked until the
    end of the transaction (``SELECT ... FOR UPDATE``; SQLite's writers
    are serialized already), so no other writer changes it before the
    write that checks it.
    """
    names = entity.names(None, "find", context)
    attnames = [entity.info.fields[name].attname for name in names]
    rows = entity.queryset("find", context).filter(match)
    if lock:
        rows = rows.select_for_update()
    found = list(rows.values_list(*attnames)[:1])
    if not found:
        return None
    return row_etag(entity.info, dict(zip(names, found[0], strict=True)))


def answer_etag(
    entity: Any, match: Any, context: Any, row: Mapping[str, Any], names: tuple
) -> str | None:
    """Return the ETag of a row just written and answered as ``row``.

    ``row`` holds ``names``; when those are not what the caller reads by
    default (``fields=``, hidden columns), the row is read again.
    """
    if tuple(names) == entity.names(None, "find", context):
        return row_etag(entity.info, row)
    return read_etag(entity, match, context)
