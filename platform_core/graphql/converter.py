"""Column types -> GraphQL scalars, as one dispatch table.

Outputs use rich scalars (DateTime); inputs take the same text the REST API
takes (ISO dates, decimal strings), checked by ``entities.values``::

    output_scalar(info.fields["createdAt"])   # graphene.DateTime
    input_scalar(info.fields["price"])        # graphene.String
"""

from __future__ import annotations

import graphene
from graphene.types.generic import GenericScalar

from platform_core.introspection import FieldInfo

_INT = {
    "AutoField",
    "IntegerField",
    "SmallIntegerField",
    "SmallAutoField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
}
_BIG = {"BigAutoField", "BigIntegerField", "PositiveBigIntegerField"}
_OUTPUT = {
    "FloatField": graphene.Float,
    "BooleanField": graphene.Boolean,
    "DateTimeField": graphene.DateTime,
    "DateField": graphene.Date,
    "TimeField": graphene.Time,
    "JSONField": GenericScalar,
}
_INPUT = {
    "FloatField": graphene.Float,
    "BooleanField": graphene.Boolean,
    "JSONField": GenericScalar,
}


def _scalar(field: FieldInfo, table: dict) -> type:
    if field.field_type in _INT:
        return graphene.Int
    if field.field_type in _BIG:
        return graphene.BigInt
    return table.get(field.field_type, graphene.String)


def output_scalar(field: FieldInfo) -> type:
    """Return the scalar of a field's values in answers."""
    if field.field_type == "ArrayField":
        return graphene.List(_scalar(field.element(), _OUTPUT))
    return _scalar(field, _OUTPUT)


def input_scalar(field: FieldInfo) -> type:
    """Return the scalar of a field's values in arguments."""
    if field.field_type == "ArrayField":
        return graphene.List(_scalar(field.element(), _INPUT))
    return _scalar(field, _INPUT)
