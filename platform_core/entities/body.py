"""Check a write's body against the entity: names, types, required values.

Returns ORM attribute values; unknown or wrongly typed fields are 400s,
never dropped or coerced silently. Client-sent createdAt/updatedAt are
ignored (the platform sets them)::

    attrs = read_body(info, {"title": "Dog", "ownerId": 1}, mode="insert")
    # {"title": "Dog", "owner_id": 1}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models.expressions import RawSQL
from django.utils import timezone

from platform_core.entities.values import to_python
from platform_core.exceptions import (
    INVALID_BODY,
    NOT_NULL_VIOLATION,
    UNKNOWN_FIELD,
    bad_request,
    did_you_mean,
)
from platform_core.introspection import FieldInfo, ModelInfo

CREATED, UPDATED = "createdAt", "updatedAt"
_TIMESTAMP_TYPES = {"DateTimeField", "DateField"}


def timestamp_fields(info: ModelInfo) -> tuple[FieldInfo | None, FieldInfo | None]:
    """Return the createdAt and updatedAt fields the platform maintains."""
    found = [info.fields.get(name) for name in (CREATED, UPDATED)]
    return tuple(f if f and f.field_type in _TIMESTAMP_TYPES else None for f in found)


def read_body(info: ModelInfo, body: Any, mode: str) -> dict[str, Any]:
    """Return ORM values of ``body`` for ``mode`` insert, replace or patch.

    insert and replace require every NOT NULL column without a default;
    replace sets omitted nullable columns to NULL; patch takes what is given.
    """
    require_object(body)
    managed = {f.name for f in timestamp_fields(info) if f}
    attrs = {}
    for name, value in body.items():
        field = info.fields.get(name)
        if field is None:
            raise bad_request(
                UNKNOWN_FIELD,
                f'Unknown field "{name}" in body.' + did_you_mean(name, info.fields),
            )
        if name not in managed:
            attrs[field.attname] = to_python(field, value, where=" in body")
    if mode != "patch":
        _complete(info, attrs, managed, mode)
    _stamp(info, attrs, mode)
    return attrs


def require_object(body: Any) -> Mapping:
    """Return ``body`` if it is a JSON object, else raise 400 INVALID_BODY."""
    if not isinstance(body, Mapping):
        raise bad_request(INVALID_BODY, "The body must be a JSON object")
    return body


def _complete(info: ModelInfo, attrs: dict, managed: set[str], mode: str) -> None:
    for field in info.fields.values():
        if field.name in managed or field.auto:
            continue
        if field.has_default:
            if mode == "replace" and field.attname not in attrs and field.default:
                # PUT replaces the row: an omitted column takes its default.
                attrs[field.attname] = RawSQL(field.default, ())
            continue
        present = field.attname in attrs and attrs[field.attname] is not None
        if not present and not field.null:
            raise bad_request(
                NOT_NULL_VIOLATION, f'Missing value for required field "{field.name}"'
            )
        if mode == "replace" and field.attname not in attrs:
            attrs[field.attname] = None


def _stamp(info: ModelInfo, attrs: dict, mode: str) -> None:
    created, updated = timestamp_fields(info)
    now = timezone.now()
    if created and mode == "insert":
        attrs[created.attname] = now
    if updated:
        attrs[updated.attname] = now
