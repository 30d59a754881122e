"""Check and convert client values to the Python type of each field.

Strict: a value of the wrong type is a 400, never coerced silently. Query
strings arrive as text (``from_text=True``); JSON bodies and GraphQL
arguments arrive typed::

    to_python(info.fields["price"], "9.50", from_text=True)   # Decimal("9.50")
    to_python(info.fields["stock"], "3")                       # APIError 400
"""

from __future__ import annotations

import base64
import decimal
from typing import Any

from platform_core.fieldtypes import fieldtypes
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


def to_python(
    field: FieldInfo, value: Any, from_text: bool = False, where: str = ""
) -> Any:
    """Return ``value`` as the field's Python type; None stays None.

    Raise APIError 400 (INVALID_VALUE) naming the field when it does not fit,
    and VALUE_TOO_LONG when a string exceeds the column's length. What fits
    is the field type's business (``platform_core.fieldtypes``).
    """
    return fieldtypes.to_python(field, value, from_text, where)
