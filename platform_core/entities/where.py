"""Turn where / orderBy / fields into ORM terms, checking every name.

REST (query strings, ``from_text=True``) and GraphQL (typed arguments)
both pass the same shapes; unknown names and operators are 400s::

    q = build_where(info, {"title": {"like": "Dog%"},
                           "or": [{"counter": {"gte": 40}}, {"id": {"in": [1, 2]}}]})
    ordering = build_order(info, [("title", "asc"), ("id", "desc")])
    names = check_fields(info, ["id", "title"])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.db.models import Q

from platform_core.entities.values import to_python
from platform_core.exceptions import (
    INVALID_VALUE,
    QUERY_TOO_LARGE,
    UNKNOWN_FIELD,
    UNKNOWN_OPERATOR,
    APIError,
    bad_request,
    did_you_mean,
)
from platform_core.fieldtypes import (
    OPERATORS,
    SCALAR_OPERATORS,  # noqa: F401  (re-exported)
    fieldtypes,
)
from platform_core.introspection import FieldInfo, ModelInfo

# Caps on one where, checked before any SQL is built: SQLite refuses an OR
# chain deeper than 1000 and more than 32766 bound values, and no engine
# answers a huge where quickly. Every "or" list of the where counts, nested
# ones (GraphQL) included.
MAX_OR_CONDITIONS = 100  # branches of all "or" lists together
MAX_LIST_VALUES = 1000  # values of one in / nin list
MAX_WHERE_VALUES = 10_000  # values of all lists together

# Array operators -> ORM lookups (django.contrib.postgres).
ARRAY_LOOKUPS = {
    "contains": "contains",
    "contained": "contained_by",
    "overlaps": "overlap",
    "any": "any",
    "all": "all",
}


def get_field(info: ModelInfo, name: str, where: str) -> FieldInfo:
    """Return field ``name``; raise 400 UNKNOWN_FIELD (with a suggestion)."""
    try:
        return info.fields[name]
    except KeyError:
        raise bad_request(
            UNKNOWN_FIELD,
            f'Unknown field "{name}" in {where}.' + did_you_mean(name, info.fields),
        ) from None


def _values(field: FieldInfo, value: Any, from_text: bool, op: str) -> list:
    items = value.split(",") if from_text and isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise bad_request(INVALID_VALUE, f'"{field.name}.{op}" needs a non-empty list')
    return [to_python(field, item, from_text, f" in where.{op}") for item in items]


def _not_null(field: FieldInfo) -> Q:
    return Q(**{f"{field.attname}__isnull": False})


def _eq(field, value, from_text):
    if value is None or (from_text and value == "null"):
        return Q(**{f"{field.attname}__isnull": True})
    return Q(**{field.attname: to_python(field, value, from_text, " in where")})


def _neq(field, value, from_text):
    if value is None or (from_text and value == "null"):
        return _not_null(field)
    return ~Q(
        **{field.attname: to_python(field, value, from_text, " in where")}
    ) & _not_null(field)


def _compare(lookup: str) -> Callable:
    def build(field, value, from_text):
        converted = to_python(field, value, from_text, " in where")
        if converted is None:
            raise bad_request(INVALID_VALUE, f'"{field.name}.{lookup}" needs a value')
        return Q(**{f"{field.attname}__{lookup}": converted})

    return build


def _like(lookup: str) -> Callable:
    def build(field, value, from_text):
        if not isinstance(value, str):
            raise bad_request(INVALID_VALUE, f'"{field.name}.{lookup}" needs a string')
        return Q(**{f"{field.attname}__{lookup}": value})

    return build


def _in(field, value, from_text):
    return Q(**{f"{field.attname}__in": _values(field, value, from_text, "in")})


def _nin(field, value, from_text):
    return ~Q(
        **{f"{field.attname}__in": _values(field, value, from_text, "nin")}
    ) & _not_null(field)


def _is_null(field, value, from_text):
    flag = {"true": True, "false": False}.get(value) if from_text else value
    if not isinstance(flag, bool):
        raise bad_request(INVALID_VALUE, f'"{field.name}.isNull" needs true or false')
    return Q(**{f"{field.attname}__isnull": flag})


def _array(lookup: str) -> Callable:
    def build(field, value, from_text):
        if lookup in ("any", "all"):
            element = field.element()
            return Q(
                **{f"{field.attname}__{lookup}": to_python(element, value, from_text)}
            )
        return Q(**{f"{field.attname}__{lookup}": to_python(field, value, from_text)})

    return build


BUILDERS: dict[str, Callable[[FieldInfo, Any, bool], Q]] = {
    "eq": _eq,
    "neq": _neq,
    "gt": _compare("gt"),
    "gte": _compare("gte"),
    "lt": _compare("lt"),
    "lte": _compare("lte"),
    "like": _like("like"),
    "ilike": _like("ilike"),
    "in": _in,
    "nin": _nin,
    "isNull": _is_null,
    **{op: _array(lookup) for op, lookup in ARRAY_LOOKUPS.items()},
}


def _not_allowed(field: FieldInfo, op: str) -> APIError:
    """Return the 400 for an operator the field's type does not allow."""
    if op in ("like", "ilike"):
        message = f'"{op}" works on text fields; "{field.name}" is not one'
    elif op in ARRAY_LOOKUPS:
        message = f'Operator for arrays used on "{field.name}", which is not an array'
    else:
        allowed = ", ".join(fieldtypes.operators(field))
        message = (
            f'Operator "{op}" does not apply to "{field.name}". Operators: {allowed}.'
        )
    return bad_request(UNKNOWN_OPERATOR, message)


def _count(where: Any, from_text: bool, seen: list[int]) -> None:
    """Add the "or" branches and list values of ``where`` to ``seen``.

    Stops as soon as a cap is passed, so a deeply nested where costs little.
    """
    for name, ops in where.items() if isinstance(where, Mapping) else ():
        if name == "or" and isinstance(ops, list | tuple):
            seen[0] += len(ops)
            _check_counts(seen)
            for branch in ops:
                _count(branch, from_text, seen)
        elif isinstance(ops, Mapping):
            for op in ("in", "nin"):
                seen[1] += _list_size(name, op, ops.get(op), from_text)
            _check_counts(seen)


def _list_size(name: str, op: str, items: Any, from_text: bool) -> int:
    """Return the number of values of an in / nin list; 400 over the cap."""
    if from_text and isinstance(items, str):
        size = items.count(",") + 1
    else:
        size = len(items) if isinstance(items, list | tuple) else 0
    if size > MAX_LIST_VALUES:
        raise bad_request(
            QUERY_TOO_LARGE,
            f'"{name}.{op}" has {size} values; at most {MAX_LIST_VALUES} are allowed',
        )
    return size


def _check_counts(seen: list[int]) -> None:
    branches, values = seen
    if branches > MAX_OR_CONDITIONS:
        raise bad_request(
            QUERY_TOO_LARGE,
            f'Too many "or" conditions: at most {MAX_OR_CONDITIONS} are allowed',
        )
    if values > MAX_WHERE_VALUES:
        raise bad_request(
            QUERY_TOO_LARGE,
            f"Too many values in the where lists: at most {MAX_WHERE_VALUES} "
            "in all are allowed",
        )


def check_size(where: Mapping[str, Any] | None, from_text: bool = False) -> None:
    """Raise 400 QUERY_TOO_LARGE when ``where`` is over a cap (``MAX_*``)."""
    _count(where or {}, from_text, [0, 0])


def build_where(
    info: ModelInfo, where: Mapping[str, Any] | None, from_text: bool = False
) -> Q:
    """Return the Q of ``{field: {op: value}, "or": [where, ...]}`` (ANDed).

    Raise 400 for unknown names, wrong values and a where over a cap.
    """
    check_size(where, from_text)
    return _build(info, where, from_text)


def _build(info: ModelInfo, where: Mapping[str, Any] | None, from_text: bool) -> Q:
    q = Q()
    for name, ops in (where or {}).items():
        if name == "or":
            if not isinstance(ops, list | tuple) or not ops:
                raise bad_request(INVALID_VALUE, '"or" needs a list of conditions')
            alternative = Q()
            for branch in ops:
                alternative |= _build(info, branch, from_text)
            q &= alternative
            continue
        field = get_field(info, name, "where")
        if not isinstance(ops, Mapping) or not ops:
            raise bad_request(
                INVALID_VALUE, f"where.{name} needs an operator, e.g. where.{name}.eq"
            )
        for op, value in ops.items():
            if op not in BUILDERS:
                raise bad_request(
                    UNKNOWN_OPERATOR,
                    f'Unknown operator "{op}" for '
                    f'"{name}". Operators: {", ".join(OPERATORS)}.'
                    + did_you_mean(op, OPERATORS),
                )
            if op not in fieldtypes.operators(field):
                raise _not_allowed(field, op)
            q &= BUILDERS[op](field, value, from_text)
    return q


def build_order(
    info: ModelInfo, order_by: Iterable[tuple[str, str]] | None
) -> list[str]:
    """Return ORM ordering terms; raise 400 for unknown fields or directions."""
    terms = []
    for name, direction in order_by or ():
        field = get_field(info, name, "orderby")
        if direction not in ("asc", "desc"):
            raise bad_request(
                INVALID_VALUE,
                f'orderby.{name} must be "asc" or "desc", not {direction!r}',
            )
        terms.append(("-" if direction == "desc" else "") + field.attname)
    return terms


def check_fields(info: ModelInfo, fields: Iterable[str] | None) -> tuple[str, ...]:
    """Return the selected field names (all when None); 400 for unknown ones."""
    if fields is None:
        return tuple(info.fields)
    names = tuple(fields)
    if not names:
        raise bad_request(INVALID_VALUE, "fields needs at least one field")
    for name in names:
        get_field(info, name, "fields")
    return names
