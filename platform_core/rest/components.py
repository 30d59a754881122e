"""JSON schemas of entities for the OpenAPI document: fields and components.

How a column looks in JSON is said once, in ``platform_core.fieldtypes``;
``rest.openapi`` puts these in the document::

    field_schema(info.fields["price"])  # {"type": "string", "format": "decimal", ...}
    entity_components(info)             # {"Product": ..., "ProductInput": ...}
"""

from __future__ import annotations

from platform_core import naming
from platform_core.entities.body import timestamp_fields
from platform_core.fieldtypes import fieldtypes
from platform_core.introspection import FieldInfo, ModelInfo

ERRORS = {
    400: "Bad request",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    413: "Body too large",
    415: "Body is not JSON",
}


def field_schema(field: FieldInfo) -> dict:
    """Return the JSON schema of a field's values (from ``fieldtypes``)."""
    return fieldtypes.openapi_schema(field)


def entity_components(info: ModelInfo) -> dict[str, dict]:
    """Return the output, input and patch schemas of an entity by name."""
    name = naming.pascal(info.entity)
    managed = {f.name for f in timestamp_fields(info) if f}
    fields = info.fields.values()
    # No field is "required": fields= may leave any of them out.
    output = {"type": "object", "properties": {f.name: field_schema(f) for f in fields}}
    writable = {f.name: field_schema(f) for f in fields if f.name not in managed}
    required = [
        f.name
        for f in fields
        if f.name not in managed and not f.null and not f.has_default and not f.auto
    ]
    entry = {"type": "object", "properties": writable, "additionalProperties": False}
    keys = set(info.primary_key)
    patch = {
        **entry,
        "properties": {k: v for k, v in writable.items() if k not in keys},
    }
    return {
        name: output,
        f"{name}Input": {**entry, **({"required": required} if required else {})},
        f"{name}Patch": patch,
    }
