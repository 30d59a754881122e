"""Parsers of client values: strict, a wrong type is refused, never coerced.

Each takes ``(value, from_text)``: query strings arrive as text
(``from_text=True``), JSON bodies and GraphQL arguments arrive typed. Each
returns the Python value or raises ``Invalid`` saying what was expected::

    integer("3", True)        # 3
    integer("3", False)       # Invalid("an integer"): JSON has numbers
    date("2024-02-30", True)  # Invalid("a date (YYYY-MM-DD)")
"""

from __future__ import annotations

import base64
import binascii
import datetime
import decimal as decimals
import re
import uuid as uuids
from collections.abc import Callable
from typing import Any, NoReturn

from django.utils import dateparse, timezone

from platform_core.fieldtypes.fieldtype import Invalid, Parser

_INT_RE = re.compile(r"^-?\d+$")
_BOOLS = {"true": True, "false": False}


def integer(value: Any, from_text: bool) -> int:
    """Return an int; floats with no fraction are accepted from JSON."""
    if from_text and isinstance(value, str) and _INT_RE.match(value):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer() and not from_text:
        return int(value)
    raise Invalid("an integer")


def number(value: Any, from_text: bool) -> float:
    """Return a float."""
    if from_text and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise Invalid("a number") from None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise Invalid("a number")


def decimal(value: Any, from_text: bool) -> decimals.Decimal:
    """Return a finite Decimal, from text or a JSON number."""
    if isinstance(value, decimals.Decimal):
        value = str(value)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Invalid("a decimal number")
    try:
        result = decimals.Decimal(str(value))
    except decimals.InvalidOperation:
        raise Invalid("a decimal number") from None
    if not result.is_finite():
        raise Invalid("a finite decimal number")
    return result


def boolean(value: Any, from_text: bool) -> bool:
    """Return a bool; query strings say ``true`` or ``false``."""
    if isinstance(value, bool):
        return value
    if from_text and isinstance(value, str) and value in _BOOLS:
        return _BOOLS[value]
    raise Invalid("true or false")


def text(value: Any, from_text: bool) -> str:
    """Return a string with no NUL character."""
    if isinstance(value, str):
        if "\x00" in value:  # PostgreSQL cannot store it; refused everywhere
            raise Invalid("a string without NUL characters")
        return value
    raise Invalid("a string")


def textual(parse: Callable[[str], Any], what: str, aware: bool = False) -> Parser:
    """Return a parser of strings through ``parse`` (None, ValueError: refused).

    ``aware`` attaches UTC to naive date-times and gives every date-time in
    UTC (the same instant; PostgreSQL refuses offsets beyond +-15:59, which
    ISO 8601 allows).
    """

    def convert(value: Any, from_text: bool) -> Any:
        if not isinstance(value, str):
            raise Invalid(what)
        try:
            result = parse(value)
        except ValueError:
            result = None
        if result is None:
            raise Invalid(what)
        if aware and timezone.is_naive(result):
            result = timezone.make_aware(result, datetime.UTC)
        if not aware:
            return result
        try:
            return result.astimezone(datetime.UTC)
        except OverflowError:  # 0001-01-01T00:00+01:00 is in year 0 in UTC
            raise Invalid(what) from None

    return convert


date = textual(dateparse.parse_date, "a date (YYYY-MM-DD)")
date_time = textual(dateparse.parse_datetime, "a date-time (ISO 8601)", aware=True)
time = textual(dateparse.parse_time, "a time (HH:MM[:SS])")
duration = textual(dateparse.parse_duration, "a duration")


def uuid(value: Any, from_text: bool) -> uuids.UUID:
    """Return a UUID."""
    try:
        return uuids.UUID(value) if isinstance(value, str) else _refuse("a UUID")
    except ValueError:
        raise Invalid("a UUID") from None


def binary(value: Any, from_text: bool) -> bytes:
    """Return the bytes of base64 text."""
    try:
        return (
            base64.b64decode(value, validate=True)
            if isinstance(value, str)
            else _refuse("")
        )
    except (binascii.Error, Invalid):
        raise Invalid("base64 text") from None


def json(value: Any, from_text: bool) -> Any:
    """Return any JSON value as it is; query strings filter with isNull only."""
    if from_text:
        raise Invalid("filtered with isNull only")
    return value


def _refuse(what: str) -> NoReturn:
    raise Invalid(what)
