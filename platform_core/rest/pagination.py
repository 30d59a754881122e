"""Cursor (keyset) pagination: ``cursor=true`` with ``startAfter``/``endBefore``.

A cursor encodes the ordering values of a row (the requested ``orderby``
fields, then the primary key); the next page starts strictly after it::

    GET /posts?cursor=true&limit=2            -> X-Start-After: <c2>
    GET /posts?cursor=true&limit=2&startAfter=<c2>
"""

from __future__ import annotations

import base64
import binascii

import orjson
from django.db.models import Q

from platform_core.entities.values import to_python
from platform_core.exceptions import INVALID_VALUE, APIError, bad_request
from platform_core.introspection import ModelInfo


def cursor_order(
    info: ModelInfo, order_by: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """Return ``order_by`` completed with the primary key, for a total order."""
    named = {name for name, _ in order_by}
    return [
        *order_by,
        *((name, "asc") for name in info.primary_key if name not in named),
    ]


def encode(row: dict, order: list[tuple[str, str]]) -> str:
    """Return the cursor of ``row`` for ``order``."""
    values = [row.get(name) for name, _ in order]
    raw = orjson.dumps(values, default=str)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(info: ModelInfo, cursor: str, order: list[tuple[str, str]]) -> list:
    """Return the typed ordering values in ``cursor``; 400 if it is not one."""
    try:
        values = orjson.loads(
            base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        )
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise bad_request(INVALID_VALUE, "Invalid cursor") from None
    if not isinstance(values, list) or len(values) != len(order):
        raise bad_request(INVALID_VALUE, "The cursor does not match this ordering")
    typed = []
    for (name, _), value in zip(order, values, strict=True):
        if value is None:
            raise bad_request(
                INVALID_VALUE,
                f'Cursor pagination cannot order by "{name}" where it is null',
            )
        try:
            typed.append(to_python(info.fields[name], value))
        except APIError:
            raise bad_request(INVALID_VALUE, "Invalid cursor") from None
    return typed


def after(
    info: ModelInfo, order: list[tuple[str, str]], values: list, backwards: bool = False
) -> Q:
    """Return rows strictly after (or before) ``values`` in ``order``."""
    condition = Q()
    equal = Q()
    for (name, direction), value in zip(order, values, strict=True):
        attname = info.fields[name].attname
        forward = (direction == "asc") != backwards
        condition |= equal & Q(**{f"{attname}__{'gt' if forward else 'lt'}": value})
        equal &= Q(**{attname: value})
    return condition


def reverse(order: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Return ``order`` with every direction flipped."""
    return [
        (name, "desc" if direction == "asc" else "asc") for name, direction in order
    ]
