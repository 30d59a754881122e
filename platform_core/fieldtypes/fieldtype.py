"""The entries of the field-type table: what one column type means to clients.

An entry says how a client value becomes the Python value and what the
column refuses, which where operators apply, and how values look in OpenAPI
and in GraphQL. ``FieldType`` builds a scalar type from those parts;
``BaseFieldType`` is the contract for types made of others (arrays)::

    inet = FieldType(
        parse=parse_address,                      # raise Invalid("an IP address")
        schema={"type": "string", "format": "ip"},
        operators=EQUALITY_OPERATORS,
    )
    inet.to_python(info.fields["address"], "10.0.0.1", from_text=True)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import graphene

from platform_core.exceptions import INVALID_VALUE, bad_request
from platform_core.fieldtypes.operators import COMPARISON_OPERATORS
from platform_core.introspection import FieldInfo

# (value, from_text) -> the Python value; raise Invalid when it does not fit.
Parser = Callable[[Any, bool], Any]
# (field, Python value) -> None; raise APIError 400 when the column cannot
# hold the value (out of range, too long, too precise).
Check = Callable[[FieldInfo, Any], None]


class Invalid(Exception):
    """A parser's refusal; the message says what was expected."""


class BaseFieldType:
    """The contract of a table entry.

    Set ``operators`` (names from ``fieldtypes.operators``) and implement the
    four methods. Subclass ``FieldType`` for a scalar type with a twist, or
    this class for a type made of others (``builtins.ArrayType``).
    """

    operators: tuple[str, ...] = ()

    def to_python(
        self, field: FieldInfo, value: Any, from_text: bool = False, where: str = ""
    ) -> Any:
        """Return ``value`` (never None) as the field's Python value.

        ``from_text`` says the value came from a query string. Raise
        APIError 400 naming ``field`` (and ``where``) when it does not fit.
        """
        raise NotImplementedError

    def schema_of(self, field: FieldInfo) -> dict:
        """Return the OpenAPI schema of the values, without nullable."""
        raise NotImplementedError

    def output_scalar(self, field: FieldInfo) -> Any:
        """Return the graphene type of the field's values in answers."""
        raise NotImplementedError

    def input_scalar(self, field: FieldInfo) -> Any:
        """Return the graphene type of the field's values in arguments."""
        raise NotImplementedError


@dataclass(frozen=True, eq=False)
class FieldType(BaseFieldType):
    """A scalar column type, from its parts.

    ``parse`` reads a client value (raising ``Invalid``), then each of
    ``checks`` may refuse the result. ``schema`` is the OpenAPI schema or a
    function of the field returning it (for maxLength or a pattern).
    ``output`` and ``input`` are graphene scalars; ``input`` defaults to
    ``output``, which defaults to ``graphene.String``.
    """

    parse: Parser
    schema: dict | Callable[[FieldInfo], dict]
    output: Any = None
    input: Any = None
    operators: tuple[str, ...] = COMPARISON_OPERATORS
    checks: tuple[Check, ...] = ()

    def to_python(
        self, field: FieldInfo, value: Any, from_text: bool = False, where: str = ""
    ) -> Any:
        """Return ``value`` parsed and checked; else raise APIError 400."""
        try:
            result = self.parse(value, from_text)
        except Invalid as exc:
            raise bad_request(
                INVALID_VALUE,
                f'Invalid value {value!r} for "{field.name}"{where}: expected {exc}',
            ) from None
        for check in self.checks:
            check(field, result)
        return result

    def schema_of(self, field: FieldInfo) -> dict:
        """Return a fresh copy of the OpenAPI schema of the field's values."""
        return self.schema(field) if callable(self.schema) else dict(self.schema)

    def output_scalar(self, field: FieldInfo) -> Any:
        """Return ``output``, or graphene.String."""
        return self.output or graphene.String

    def input_scalar(self, field: FieldInfo) -> Any:
        """Return ``input``, or the output scalar."""
        return self.input or self.output_scalar(field)
