"""Column types -> GraphQL scalars, read from the field-type table.

Outputs use rich scalars (DateTime); inputs take the same text the REST API
takes (ISO dates, decimal strings), checked by ``entities.values``. Each
column type's scalars are entries of ``platform_core.fieldtypes``::

    output_scalar(info.fields["createdAt"])   # graphene.DateTime
    input_scalar(info.fields["price"])        # graphene.String
"""

from __future__ import annotations

from typing import Any

from platform_core.fieldtypes import fieldtypes
from platform_core.introspection import FieldInfo


def output_scalar(field: FieldInfo) -> Any:
    """Return the scalar of a field's values in answers."""
    return fieldtypes.output_scalar(field)


def input_scalar(field: FieldInfo) -> Any:
    """Return the scalar of a field's values in arguments."""
    return fieldtypes.input_scalar(field)
