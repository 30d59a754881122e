"""Query strings of the generated REST API -> arguments of the entities API.

Every key is known or refused (400 UNKNOWN_PARAMETER); values stay text and
are checked by type in ``entities.where``::

    ?where.title.like=Dog%&where.or=(counter.gte=40|id.eq=1)&orderby.id=desc
     &fields=id,title&limit=5&offset=10&totalCount=true
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, unquote_to_bytes

from platform_core.exceptions import (
    INVALID_LIMIT,
    INVALID_VALUE,
    UNKNOWN_PARAMETER,
    bad_request,
    did_you_mean,
)

_DIGITS = re.compile(r"^[0-9]{1,18}$")  # ASCII digits only ("²" is a digit too)
MAX_OFFSET = 2**31 - 1
LIST_KEYS = (
    "limit",
    "offset",
    "fields",
    "totalCount",
    "cursor",
    "startAfter",
    "endBefore",
)


@dataclass
class ListParams:
    """The parsed query of a list route."""

    where: dict[str, Any] = field(default_factory=dict)
    order_by: list[tuple[str, str]] = field(default_factory=list)
    fields: tuple[str, ...] | None = None
    limit: int = 10
    offset: int = 0
    total_count: bool = False
    cursor: bool = False
    start_after: str | None = None
    end_before: str | None = None


def check_encoding(raw: bytes) -> None:
    """Raise 400 when the query string ``raw`` (bytes as sent) is not UTF-8.

    Django decodes a query with errors="replace": ``where.title.eq=%FF``
    would otherwise filter on U+FFFD.
    """
    if raw.isascii() and b"%" not in raw:
        return
    for pair in raw.split(b"&"):
        try:
            unquote_to_bytes(pair.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            key = unquote(pair.partition(b"=")[0].decode("latin-1"), errors="replace")
            raise bad_request(
                INVALID_VALUE,
                f'Query parameter "{key}" is not valid UTF-8; '
                "percent-encode the UTF-8 bytes of the text",
            ) from None


def _single(query, key: str) -> str:
    values = query.getlist(key)
    if len(values) > 1:
        raise bad_request(
            INVALID_VALUE, f'Query parameter "{key}" is given {len(values)} times'
        )
    return values[0]


def _flag(query, key: str) -> bool:
    value = _single(query, key)
    if value not in ("true", "false"):
        raise bad_request(INVALID_VALUE, f'"{key}" must be true or false')
    return value == "true"


def _number(query, key: str, low: int, high: int | None) -> int:
    text = _single(query, key)
    if (
        not _DIGITS.match(text)
        or int(text) < low
        or (high is not None and int(text) > high)
    ):
        upper = f" and {high}" if high is not None else " or more"
        raise bad_request(
            INVALID_LIMIT,
            f'"{key}" must be a whole number between {low}{upper}, not {text!r}',
        )
    return int(text)


def parse_fields(query) -> tuple[str, ...] | None:
    """Return ``fields=a,b`` as names, or None when absent; 400 when empty.

    The array form of Platformatic's clients, ``fields=a&fields=b``, is the
    same list.
    """
    if "fields" not in query:
        return None
    names = tuple(  # each once: the answer has each once anyway
        dict.fromkeys(
            name
            for value in query.getlist("fields")
            for name in value.split(",")
            if name
        )
    )
    if not names:
        raise bad_request(INVALID_VALUE, "fields needs at least one field name")
    return names


def parse_or(text: str) -> list[dict]:
    """Parse ``(title.eq=Dog|counter.gte=40)`` into where branches."""
    if not (text.startswith("(") and text.endswith(")")) or len(text) < 3:
        raise bad_request(
            INVALID_VALUE, 'where.or must look like "(field.op=value|field.op=value)"'
        )
    branches = []
    for part in text[1:-1].split("|"):
        condition, sep, value = part.partition("=")
        name, dot, op = condition.partition(".")
        if not sep or not dot or not name or not op:
            raise bad_request(
                INVALID_VALUE, f'where.or: "{part}" must look like "field.op=value"'
            )
        branches.append({name: {op: value}})
    return branches


def parse_where(query, key: str, where: dict) -> bool:
    """Add ``where.<field>.<op>`` or ``where.or`` to ``where``; False if not one."""
    if not key.startswith("where."):
        return False
    rest = key[len("where.") :]
    if rest == "or":
        count = len(query.getlist(key))
        if count > 1:  # Platformatic silently reads the first one only
            raise bad_request(
                INVALID_VALUE,
                f'Query parameter "where.or" is given {count} times; put every '
                "condition in one where.or=(a|b|...)",
            )
        where["or"] = parse_or(query[key])
        return True
    name, dot, op = rest.partition(".")
    if not dot or not name or not op or "." in op:
        raise bad_request(
            UNKNOWN_PARAMETER,
            f'Query parameter "{key}" must look like "where.<field>.<operator>"',
        )
    where.setdefault(name, {})[op] = _single(query, key)
    return True


def parse_list(
    query, limit_default: int, limit_max: int, allowed=LIST_KEYS, ordering: bool = True
) -> ListParams:
    """Return the ListParams of a list route's query; 400 for anything unknown."""
    params = ListParams(limit=limit_default)
    for key in query:
        if parse_where(query, key, params.where):
            continue
        if ordering and key.startswith("orderby."):
            params.order_by.append((key[len("orderby.") :], _single(query, key)))
        elif key not in allowed:
            raise unknown(key, [*allowed, "where.<field>.<op>", "orderby.<field>"])
    if "fields" in allowed:
        params.fields = parse_fields(query)
    if "limit" in query:
        params.limit = _number(query, "limit", 0, limit_max)
    if "offset" in query:
        params.offset = _number(query, "offset", 0, MAX_OFFSET)
    if "totalCount" in query:
        params.total_count = _flag(query, "totalCount")
    _parse_cursor(query, params)
    return params


def _parse_cursor(query, params: ListParams) -> None:
    """Set the cursor fields; ``startAfter`` or ``endBefore`` implies cursor=true.

    Platformatic pages with either alone and answers the cursor headers.
    """
    if "startAfter" in query:
        params.start_after = _single(query, "startAfter")
    if "endBefore" in query:
        params.end_before = _single(query, "endBefore")
    given = params.start_after is not None or params.end_before is not None
    if "cursor" in query:
        params.cursor = _flag(query, "cursor")
        if given and not params.cursor:
            raise bad_request(
                INVALID_VALUE,
                "startAfter and endBefore cannot be used with cursor=false",
            )
    params.cursor = params.cursor or given
    if params.start_after is not None and params.end_before is not None:
        raise bad_request(INVALID_VALUE, "Use startAfter or endBefore, not both")
    if params.cursor and params.offset:
        raise bad_request(
            INVALID_VALUE,
            "offset cannot be combined with cursor pagination "
            "(cursor=true, startAfter or endBefore)",
        )


def parse_only(query, allowed: tuple[str, ...]) -> None:
    """Refuse any query key outside ``allowed``."""
    for key in query:
        if key not in allowed:
            raise unknown(key, allowed)


def unknown(key: str, allowed) -> Exception:
    """Return the 400 for an unknown query parameter."""
    return bad_request(
        UNKNOWN_PARAMETER,
        f'Unknown query parameter "{key}". Allowed: '
        f"{', '.join(allowed) or 'none'}." + did_you_mean(key, allowed),
    )
