"""Checks of what a column holds: integer ranges, text length, decimal digits.

Each is a ``Check``: ``(field, value) -> None``, raising APIError 400 when
the parsed value does not fit the column, so nothing is truncated or
rounded silently::

    FieldType(parse=parsers.integer, schema=..., checks=(bounds(0, 2**15 - 1),))
    FieldType(parse=parsers.text, schema=..., checks=(length,))
"""

from __future__ import annotations

import decimal
from typing import Any

from platform_core.exceptions import (
    INVALID_VALUE,
    VALUE_TOO_LONG,
    APIError,
    bad_request,
)
from platform_core.fieldtypes.fieldtype import Check
from platform_core.introspection import FieldInfo


def bounds(low: int, high: int) -> Check:
    """Return a check refusing numbers outside ``low`` to ``high``."""

    def check(field: FieldInfo, value: Any) -> None:
        if not low <= value <= high:
            raise bad_request(
                INVALID_VALUE,
                f'Value {value} for "{field.name}" is out of range ({low} to {high})',
            )

    return check


def length(field: FieldInfo, value: Any) -> None:
    """Refuse a string longer than the column's max_length (VALUE_TOO_LONG)."""
    if field.max_length and isinstance(value, str) and len(value) > field.max_length:
        raise APIError(
            VALUE_TOO_LONG,
            400,
            f'Value for "{field.name}" is longer than {field.max_length} characters',
        )


def digits(field: FieldInfo, value: Any) -> None:
    """Refuse a decimal the column cannot hold exactly (no silent rounding)."""
    if not isinstance(value, decimal.Decimal) or field.max_digits is None:
        return
    places = field.decimal_places or 0
    sign, figures, exponent = value.normalize().as_tuple()
    fraction = max(0, -exponent)
    whole = max(0, len(figures) + exponent)
    if fraction > places or whole > field.max_digits - places:
        raise APIError(
            INVALID_VALUE,
            400,
            f'Value {value} for "{field.name}" does not '
            f"fit NUMERIC({field.max_digits}, {places})",
        )
