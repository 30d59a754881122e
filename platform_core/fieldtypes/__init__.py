"""What each column type means, in one table: ``fieldtypes``.

Keyed by Django field class (subclasses inherit), an entry says how client
values become Python values and what the column refuses, which where
operators apply, the OpenAPI schema and the GraphQL scalar.
``entities.values``, ``entities.where``, ``rest.components``, ``rest.openapi``
and ``graphql.converter`` read it; ``db.tables`` reads its database types.
Register a new column type once and all of them follow::

    from platform_core import fieldtypes

    fieldtypes.register(
        InetField,  # class InetField(models.GenericIPAddressField)
        fieldtypes.FieldType(
            parse=parse_address,  # (value, from_text) -> str, or raise Invalid
            schema={"type": "string", "format": "ip"},
            output=IPAddress,  # a graphene scalar
            operators=fieldtypes.EQUALITY_OPERATORS,
        ),
        db_types=("inet",),  # columns declared INET are InetField
    )

Tests build a fresh ``FieldTypeRegistry`` or use
``fieldtypes.fieldtypes.register_temporarily(...)``.
"""

from __future__ import annotations

from platform_core.fieldtypes.builtins import ArrayType, register_builtins
from platform_core.fieldtypes.fieldtype import (
    BaseFieldType,
    Check,
    FieldType,
    Invalid,
    Parser,
)
from platform_core.fieldtypes.operators import (
    ARRAY_FIELD_OPERATORS,
    ARRAY_OPERATORS,
    COMPARISON_OPERATORS,
    EQUALITY_OPERATORS,
    OPERATORS,
    SCALAR_OPERATORS,
    TEXT_OPERATORS,
)
from platform_core.fieldtypes.registry import FieldTypeRegistry

__all__ = [
    "ARRAY_FIELD_OPERATORS",
    "ARRAY_OPERATORS",
    "COMPARISON_OPERATORS",
    "EQUALITY_OPERATORS",
    "OPERATORS",
    "SCALAR_OPERATORS",
    "TEXT_OPERATORS",
    "ArrayType",
    "BaseFieldType",
    "Check",
    "FieldType",
    "FieldTypeRegistry",
    "Invalid",
    "Parser",
    "fieldtypes",
    "register",
    "register_builtins",
    "unregister",
]

fieldtypes = FieldTypeRegistry()
register_builtins(fieldtypes)
register = fieldtypes.register
unregister = fieldtypes.unregister
