"""Check and convert client values to the Python type of each field.

Strict: a value of the wrong type is a 400, never coerced silently. Query
strings arrive as text (``from_text=True``); JSON bodies and GraphQL
arguments arrive typed::

    to_python(info.fields["price"], "9.50", from_text=True)   # Decimal("9.50")
    to_python(info.fields["stock"], "3")                       # APIError 400
"""

from __future__ import annotations

import base64
import binascii
import datetime
import decimal
import re
import uuid
from collections.abc import Callable
from typing import Any

from django.utils import dateparse, timezone

from platform_core.exceptions import (
    INVALID_VALUE,
    VALUE_TOO_LONG,
    APIError,
    bad_request,
)
from platform_core.introspection import FieldInfo


def json_default(value: Any) -> Any:
    """Return what orjson writes for a value it has no type for (``default=``).

    Decimals become strings and binary becomes base64, the forms
    ``to_python`` reads back.
    """
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    raise TypeError(f"cannot serialize {type(value).__name__}")


_INT_RE = re.compile(r"^-?\d+$")
_BOOLS = {"true": True, "false": False}


class _Invalid(Exception):
    pass


def _integer(value: Any, from_text: bool) -> int:
    if from_text and isinstance(value, str) and _INT_RE.match(value):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer() and not from_text:
        return int(value)
    raise _Invalid("an integer")


def _float(value: Any, from_text: bool) -> float:
    if from_text and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise _Invalid("a number") from None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise _Invalid("a number")


def _decimal(value: Any, from_text: bool) -> decimal.Decimal:
    if isinstance(value, decimal.Decimal):
        value = str(value)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Invalid("a decimal number")
    try:
        result = decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        raise _Invalid("a decimal number") from None
    if not result.is_finite():
        raise _Invalid("a finite decimal number")
    return result


def _boolean(value: Any, from_text: bool) -> bool:
    if isinstance(value, bool):
        return value
    if from_text and isinstance(value, str) and value in _BOOLS:
        return _BOOLS[value]
    raise _Invalid("true or false")


def _text(value: Any, from_text: bool) -> str:
    if isinstance(value, str):
        if "\x00" in value:  # PostgreSQL cannot store it; refused everywhere
            raise _Invalid("a string without NUL characters")
        return value
    raise _Invalid("a string")


def _parser(parse: Callable, what: str, aware: bool = False) -> Callable:
    def convert(value: Any, from_text: bool):
        if not isinstance(value, str):
            raise _Invalid(what)
        try:
            result = parse(value)
        except ValueError:
            result = None
        if result is None:
            raise _Invalid(what)
        if aware and timezone.is_naive(result):
            result = timezone.make_aware(result, datetime.UTC)
        return result

    return convert


def _uuid(value: Any, from_text: bool) -> uuid.UUID:
    try:
        return uuid.UUID(value) if isinstance(value, str) else _raise("a UUID")
    except ValueError:
        raise _Invalid("a UUID") from None


def _binary(value: Any, from_text: bool) -> bytes:
    try:
        return (
            base64.b64decode(value, validate=True)
            if isinstance(value, str)
            else _raise("")
        )
    except (binascii.Error, _Invalid):
        raise _Invalid("base64 text") from None


def _json(value: Any, from_text: bool) -> Any:
    if from_text:
        raise _Invalid("filtered with isNull only")
    return value


def _raise(what: str):
    raise _Invalid(what)


CONVERTERS: dict[str, Callable[[Any, bool], Any]] = {
    **dict.fromkeys(
        (
            "AutoField",
            "BigAutoField",
            "SmallAutoField",
            "IntegerField",
            "BigIntegerField",
            "SmallIntegerField",
            "PositiveIntegerField",
            "PositiveBigIntegerField",
            "PositiveSmallIntegerField",
        ),
        _integer,
    ),
    "FloatField": _float,
    "DecimalField": _decimal,
    "BooleanField": _boolean,
    "NullBooleanField": _boolean,
    **dict.fromkeys(
        ("CharField", "TextField", "GenericIPAddressField", "SlugField", "EmailField"),
        _text,
    ),
    "DateField": _parser(dateparse.parse_date, "a date (YYYY-MM-DD)"),
    "DateTimeField": _parser(dateparse.parse_datetime, "a date-time (ISO 8601)", True),
    "TimeField": _parser(dateparse.parse_time, "a time (HH:MM[:SS])"),
    "DurationField": _parser(dateparse.parse_duration, "a duration"),
    "UUIDField": _uuid,
    "BinaryField": _binary,
    "JSONField": _json,
}


_INT_BOUNDS = {
    **dict.fromkeys(("SmallIntegerField", "SmallAutoField"), (-(2**15), 2**15 - 1)),
    **dict.fromkeys(("IntegerField", "AutoField"), (-(2**31), 2**31 - 1)),
    **dict.fromkeys(("BigIntegerField", "BigAutoField"), (-(2**63), 2**63 - 1)),
    "PositiveSmallIntegerField": (0, 2**15 - 1),
    "PositiveIntegerField": (0, 2**31 - 1),
    "PositiveBigIntegerField": (0, 2**63 - 1),
}


def to_python(
    field: FieldInfo, value: Any, from_text: bool = False, where: str = ""
) -> Any:
    """Return ``value`` as the field's Python type; None stays None.

    Raise APIError 400 (INVALID_VALUE) naming the field when it does not fit,
    and VALUE_TOO_LONG when a string exceeds the column's length.
    """
    if value is None:
        return None
    if field.field_type == "ArrayField":
        return _array(field, value, from_text, where)
    convert = CONVERTERS.get(field.field_type, _text)
    try:
        result = convert(value, from_text)
    except _Invalid as exc:
        raise bad_request(
            INVALID_VALUE,
            f'Invalid value {value!r} for "{field.name}"{where}: expected {exc}',
        ) from None
    bound = _INT_BOUNDS.get(field.field_type)
    if bound is not None and not bound[0] <= result <= bound[1]:
        raise bad_request(
            INVALID_VALUE,
            f'Value {result} for "{field.name}" is out of '
            f"range ({bound[0]} to {bound[1]})",
        )
    if isinstance(result, decimal.Decimal) and field.max_digits is not None:
        _check_digits(field, result)
    if field.max_length and isinstance(result, str) and len(result) > field.max_length:
        raise APIError(
            VALUE_TOO_LONG,
            400,
            f'Value for "{field.name}" is longer than {field.max_length} characters',
        )
    return result


def _check_digits(field: FieldInfo, value: decimal.Decimal) -> None:
    """Refuse a decimal the column cannot hold exactly (no silent rounding)."""
    places = field.decimal_places or 0
    sign, digits, exponent = value.normalize().as_tuple()
    fraction = max(0, -exponent)
    whole = max(0, len(digits) + exponent)
    if fraction > places or whole > field.max_digits - places:
        raise APIError(
            INVALID_VALUE,
            400,
            f'Value {value} for "{field.name}" does not '
            f"fit NUMERIC({field.max_digits}, {places})",
        )


def _array(field: FieldInfo, value: Any, from_text: bool, where: str) -> list:
    items = value.split(",") if from_text and isinstance(value, str) else value
    if not isinstance(items, list):
        raise bad_request(
            INVALID_VALUE,
            f'Invalid value {value!r} for "{field.name}"{where}: expected a list',
        )
    element = field.element()
    return [to_python(element, item, from_text, where) for item in items]
