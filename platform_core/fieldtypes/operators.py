"""The where operators a field type may allow, by name.

``entities.where`` builds each into a Q; a field type lists those that apply
to its values, and REST, OpenAPI and GraphQL offer only those::

    FieldType(parse=parsers.text, schema={"type": "string"},
              operators=EQUALITY_OPERATORS)   # eq neq in nin isNull
    [op for op in OPERATORS if op in entry.operators]   # in the usual order
"""

from __future__ import annotations

SCALAR_OPERATORS = (
    "eq",
    "neq",
    "gt",
    "gte",
    "lt",
    "lte",
    "like",
    "ilike",
    "in",
    "nin",
    "isNull",
)
ARRAY_OPERATORS = ("contains", "contained", "overlaps", "any", "all")
OPERATORS = SCALAR_OPERATORS + ARRAY_OPERATORS

# Text and UUIDs: every scalar operator, the patterns included.
TEXT_OPERATORS = SCALAR_OPERATORS
# Numbers, dates and other ordered values: no like/ilike.
COMPARISON_OPERATORS = tuple(
    op for op in SCALAR_OPERATORS if op not in ("like", "ilike")
)
# Values with no order (addresses, identifiers): equality and lists only.
EQUALITY_OPERATORS = ("eq", "neq", "in", "nin", "isNull")
# Arrays: whole-array comparisons plus the array operators.
ARRAY_FIELD_OPERATORS = COMPARISON_OPERATORS + ARRAY_OPERATORS
