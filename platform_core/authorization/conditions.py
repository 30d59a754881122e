"""Rule conditions: parsed once from service.toml, applied as Q or to a row.

Two forms, as Platformatic and the seed's examples write them::

    save = ["ownerId = $USER_ID", "status != 'archived'"]   # field op value
    delete = { checks = { ownerId = { eq = "USER_ID" } } }   # value: a claim
    find = { checks = { workspaceId = "WORKSPACE_ID" } }     # eq implied

Values are claims (``$NAME``) or literals; they become query parameters,
never SQL text. A condition whose claim the caller lacks matches nothing.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from platform_core.entities.values import to_python
from platform_core.exceptions import APIError, ConfigError
from platform_core.introspection import ModelInfo

OPERATORS = {
    "=": "eq",
    "!=": "neq",
    ">": "gt",
    ">=": "gte",
    "<": "lt",
    "<=": "lte",
    "in": "in",
    "nin": "nin",
}
_LOOKUPS = {"eq": "exact", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}
_COMPARE = {
    "eq": operator.eq,
    "neq": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
_SEED = re.compile(r"^\s*([A-Za-z_]\w*)\s*(!=|>=|<=|=|>|<|\bnin\b|\bin\b)\s*(.+?)\s*$")
_CLAIM = re.compile(r"^\$([A-Za-z_][\w-]*)$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_QUOTED = re.compile(r"""^(['"])(.*)\1$""")
NOTHING = Q(pk__in=[])


class MissingClaim(Exception):
    """The caller lacks a claim a condition needs: the condition denies."""


def normalize(name: str) -> str:
    """Return a claim name as compared: upper case, ``-`` as ``_``, no prefix."""
    name = name.upper().replace("-", "_")
    return name.removeprefix("X_JOULE_")


@dataclass(frozen=True)
class Condition:
    """``field op value``: the value is a claim (``claim``) or ``literal``."""

    field: str
    op: str
    claim: str | None = None
    literal: Any = None

    def value(self, claims: Mapping[str, Any]) -> Any:
        """Return the value to compare with; raise MissingClaim without it."""
        if self.claim is None:
            return self.literal
        value = claims.get(self.claim)
        if value is None:
            raise MissingClaim(self.claim)
        return value


def _literal(text: str, where: str) -> Any:
    claim = _CLAIM.match(text)
    if claim:
        return normalize(claim.group(1)), None
    if _NUMBER.match(text):
        return None, float(text) if "." in text else int(text)
    quoted = _QUOTED.match(text)
    if quoted:
        return None, quoted.group(2)
    if text in ("true", "false"):
        return None, text == "true"
    raise ConfigError(
        f"{where}: {text!r} is neither a claim ($NAME), a number nor a quoted string"
    )


def parse_condition(text: str, where: str) -> Condition:
    """Parse ``"field op value"`` (the seed's form); raise ConfigError if bad."""
    match = _SEED.match(text) if isinstance(text, str) else None
    if match is None:
        raise ConfigError(
            f'{where}: {text!r} is not a condition like "ownerId = $USER_ID" '
            f"(operators: {' '.join(OPERATORS)})"
        )
    field, op, value = match.groups()
    claim, literal = _literal(value, where)
    return Condition(field, OPERATORS[op], claim, literal)


def parse_checks(checks: Any, where: str) -> tuple[Condition, ...]:
    """Parse Platformatic's ``checks`` table: ``{field = CLAIM | {op = CLAIM}}``."""
    if not isinstance(checks, Mapping) or not checks:
        raise ConfigError(f"{where}: checks must be a table of field = claim")
    conditions = []
    for field, check in checks.items():
        pairs = check.items() if isinstance(check, Mapping) else [("eq", check)]
        for op, claim in pairs:
            if op not in _COMPARE and op not in ("in", "nin"):
                raise ConfigError(
                    f"{where}: unknown operator {op!r} for {field!r}; use one of "
                    f"{', '.join([*_COMPARE, 'in', 'nin'])}"
                )
            if not isinstance(claim, str) or not claim:
                raise ConfigError(f"{where}: {field}.{op} must name a claim")
            conditions.append(Condition(field, op, normalize(claim.lstrip("$"))))
    return tuple(conditions)


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
            elif actual is None or not _COMPARE[condition.op](actual, expected):
                return False
    except (MissingClaim, TypeError):
        return False
    return True
