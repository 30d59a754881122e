"""Rule conditions: parsed once from service.toml, applied as Q or to a row.

Two forms, as Platformatic and the seed's examples write them::

    save = ["ownerId = $USER_ID", "status != 'archived'"]   # field op value
    delete = { checks = { ownerId = { eq = "USER_ID" } } }   # value: a claim
    find = { checks = { workspaceId = "WORKSPACE_ID" } }     # eq implied

Values are claims (``$NAME``) or literals; they become query parameters,
never SQL text. A condition whose claim the caller lacks matches nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Q

from platform_core.config.authorization import (  # noqa: F401
    COMPARISONS,
    OPERATORS,
    Condition,
    MissingClaim,
    normalize,
    parse_checks,
    parse_condition,
)
from platform_core.entities.values import to_python
from platform_core.exceptions import APIError
from platform_core.introspection import ModelInfo

_LOOKUPS = {"eq": "exact", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}
NOTHING = Q(pk__in=[])


def _typed(info: ModelInfo, condition: Condition, value: Any) -> Any:
    field = info.fields[condition.field]
    if condition.op in ("in", "nin"):
        items = value if isinstance(value, list | tuple) else str(value).split(",")
        return [_typed_one(field, item) for item in items]
    return _typed_one(field, value)


def _typed_one(field, value: Any) -> Any:
    try:
        return to_python(field, value, from_text=isinstance(value, str))
    except APIError:
        raise MissingClaim(field.name) from None  # a claim of the wrong type


def conditions_q(
    info: ModelInfo, conditions: tuple[Condition, ...], claims: Mapping[str, Any]
) -> Q:
    """Return the Q of ``conditions`` for a caller's claims (NOTHING if one lacks)."""
    q = Q()
    try:
        for condition in conditions:
            value = _typed(info, condition, condition.value(claims))
            attname = info.fields[condition.field].attname
            if condition.op == "in":
                q &= Q(**{f"{attname}__in": value})
            elif condition.op == "nin":
                q &= ~Q(**{f"{attname}__in": value})
            elif condition.op == "neq":
                q &= ~Q(**{attname: value})
            else:
                q &= Q(**{f"{attname}__{_LOOKUPS[condition.op]}": value})
    except MissingClaim:
        return NOTHING
    return q


def row_matches(
    info: ModelInfo,
    conditions: tuple[Condition, ...],
    row: Mapping[str, Any],
    claims: Mapping[str, Any],
) -> bool:
    """Return whether a row (as events carry it) meets every condition."""
    try:
        for condition in conditions:
            expected = _typed(info, condition, condition.value(claims))
            field = info.fields[condition.field]
            actual = row.get(condition.field)
            if actual is not None:
                actual = _typed_one(field, actual)
            if condition.op in ("in", "nin"):
                if (actual in expected) != (condition.op == "in"):
                    return False
            elif actual is None or not COMPARISONS[condition.op](actual, expected):
                return False
    except (MissingClaim, TypeError):
        return False
    return True
