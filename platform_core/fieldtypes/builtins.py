"""The built-in entries: Django's field classes as the APIs show them.

``models.Field`` is the fallback: a column of a type with no entry of its
own (``inet`` read as ``GenericIPAddressField``, an unknown type read as
text) is text, without like/ilike. Outputs use rich GraphQL scalars
(DateTime); inputs take the text the REST API takes (ISO dates, decimal
strings)::

    registry = FieldTypeRegistry()
    register_builtins(registry)
    registry.get(models.PositiveSmallIntegerField).checks   # (bounds(0, 32767),)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import graphene
from django.contrib.postgres.fields import ArrayField
from django.db import models
from graphene.types.generic import GenericScalar

import platform_core.fieldtypes.limits as limits
import platform_core.fieldtypes.parsers as parsers
from platform_core.exceptions import INVALID_VALUE, bad_request
from platform_core.fieldtypes.fieldtype import BaseFieldType, FieldType, Parser
from platform_core.fieldtypes.operators import ARRAY_FIELD_OPERATORS, TEXT_OPERATORS
from platform_core.fieldtypes.registry import FieldTypeRegistry
from platform_core.fieldtypes.scalars import Base64
from platform_core.introspection import FieldInfo


def decimal_pattern(field: FieldInfo) -> str:
    """Return the pattern of decimals the column holds exactly."""
    if field.max_digits is None:
        return r"^-?\d+(\.\d+)?$"
    places = field.decimal_places or 0
    whole = max(field.max_digits - places, 1)
    fraction = rf"(\.\d{{1,{places}}})?" if places else ""
    return rf"^-?\d{{1,{whole}}}{fraction}$"


def string_schema(
    format: str | None = None, pattern: Callable[[FieldInfo], str] | None = None
) -> Callable[[FieldInfo], dict]:
    """Return the schema function of values sent as strings (with maxLength)."""

    def schema(field: FieldInfo) -> dict:
        result = {"type": "string"}
        if format:
            result["format"] = format
        if pattern:
            result["pattern"] = pattern(field)
        if field.max_length:
            result["maxLength"] = field.max_length
        return result

    return schema


def _integer(low: int, high: int, bits: int = 32) -> FieldType:
    return FieldType(
        parse=parsers.integer,
        schema={"type": "integer", "format": f"int{bits}"},
        output=graphene.BigInt if bits == 64 else graphene.Int,
        checks=(limits.bounds(low, high),),
    )


def _dated(parse: Parser, format: str, output: type) -> FieldType:
    return FieldType(parse, string_schema(format), output, input=graphene.String)


_TEXT = FieldType(
    parsers.text, string_schema(), operators=TEXT_OPERATORS, checks=(limits.length,)
)

# AutoFields, SlugField, EmailField and the platform's own NumericField and
# AwareDateTimeField inherit the entry of their base class.
BUILTINS: dict[type[models.Field], FieldType] = {
    models.Field: FieldType(parsers.text, string_schema(), checks=(limits.length,)),
    models.SmallIntegerField: _integer(-(2**15), 2**15 - 1),
    models.IntegerField: _integer(-(2**31), 2**31 - 1),
    models.BigIntegerField: _integer(-(2**63), 2**63 - 1, bits=64),
    models.PositiveSmallIntegerField: _integer(0, 2**15 - 1),
    models.PositiveIntegerField: _integer(0, 2**31 - 1),
    models.PositiveBigIntegerField: _integer(0, 2**63 - 1, bits=64),
    models.FloatField: FieldType(
        parsers.number, {"type": "number", "format": "double"}, graphene.Float
    ),
    models.DecimalField: FieldType(
        parsers.decimal,
        string_schema("decimal", decimal_pattern),
        checks=(limits.digits,),
    ),
    models.BooleanField: FieldType(
        parsers.boolean, {"type": "boolean"}, graphene.Boolean
    ),
    models.CharField: _TEXT,
    models.TextField: _TEXT,
    models.UUIDField: FieldType(
        parsers.uuid, string_schema("uuid"), operators=TEXT_OPERATORS
    ),
    models.DateField: _dated(parsers.date, "date", graphene.Date),
    models.DateTimeField: _dated(parsers.date_time, "date-time", graphene.DateTime),
    models.TimeField: _dated(parsers.time, "time", graphene.Time),
    models.DurationField: FieldType(parsers.duration, string_schema("duration")),
    models.BinaryField: FieldType(
        parsers.binary, string_schema("byte"), Base64, graphene.String
    ),
    # Any JSON value; never "nullable" in OpenAPI, {} already allows null.
    models.JSONField: FieldType(parsers.json, {}, GenericScalar),
}


class ArrayType(BaseFieldType):
    """Arrays (PostgreSQL): each element is read as the type of its column.

    Query strings give the elements comma-separated (``where.tags.eq=a,b``).
    """

    operators = ARRAY_FIELD_OPERATORS

    def __init__(self, registry: FieldTypeRegistry) -> None:
        """Read elements with the entries of ``registry``."""
        self.registry = registry

    def to_python(
        self, field: FieldInfo, value: Any, from_text: bool = False, where: str = ""
    ) -> list:
        """Return the list of elements, each read as the element type."""
        items = value.split(",") if from_text and isinstance(value, str) else value
        if not isinstance(items, list):
            raise bad_request(
                INVALID_VALUE,
                f'Invalid value {value!r} for "{field.name}"{where}: expected a list',
            )
        element = field.element()
        return [
            self.registry.to_python(element, item, from_text, where) for item in items
        ]

    def schema_of(self, field: FieldInfo) -> dict:
        """Return an array schema whose items are the element's schema."""
        return {"type": "array", "items": self.registry.openapi_schema(field.element())}

    def output_scalar(self, field: FieldInfo) -> Any:
        """Return a list of the element's output scalar."""
        return graphene.List(self.registry.output_scalar(field.element()))

    def input_scalar(self, field: FieldInfo) -> Any:
        """Return a list of the element's input scalar."""
        return graphene.List(self.registry.input_scalar(field.element()))


def register_builtins(registry: FieldTypeRegistry) -> None:
    """Register Django's field classes and PostgreSQL arrays."""
    for field_class, entry in BUILTINS.items():
        registry.register(field_class, entry)
    registry.register(ArrayField, ArrayType(registry))
