"""JSON schemas of entities for the OpenAPI document: fields and components.

One place says how a column looks in JSON; ``rest.openapi`` puts these in
the document::

    field_schema(info.fields["price"])  # {"type": "string", "format": "decimal", ...}
    entity_components(info)             # {"Product": ..., "ProductInput": ...}
"""

from __future__ import annotations

from platform_core import naming
from platform_core.entities.body import timestamp_fields
from platform_core.introspection import FieldInfo, ModelInfo

_INTEGERS = {
    "AutoField": "int32",
    "IntegerField": "int32",
    "SmallIntegerField": "int32",
    "SmallAutoField": "int32",
    "PositiveIntegerField": "int32",
    "PositiveSmallIntegerField": "int32",
    "BigAutoField": "int64",
    "BigIntegerField": "int64",
    "PositiveBigIntegerField": "int64",
}
_STRINGS = {
    "DecimalField": "decimal",
    "DateField": "date",
    "DateTimeField": "date-time",
    "TimeField": "time",
    "UUIDField": "uuid",
    "BinaryField": "byte",
    "DurationField": "duration",
}
ERRORS = {
    400: "Bad request",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    413: "Body too large",
    415: "Body is not JSON",
}


def _decimal_pattern(field: FieldInfo) -> str:
    """Return the pattern of decimals the column holds exactly."""
    if field.max_digits is None:
        return r"^-?\d+(\.\d+)?$"
    places = field.decimal_places or 0
    whole = max(field.max_digits - places, 1)
    fraction = rf"(\.\d{{1,{places}}})?" if places else ""
    return rf"^-?\d{{1,{whole}}}{fraction}$"


def field_schema(field: FieldInfo) -> dict:
    """Return the JSON schema of a field's values."""
    if field.field_type == "ArrayField":
        element = field.element()
        schema = {"type": "array", "items": field_schema(element)}
    elif field.field_type in _INTEGERS:
        schema = {"type": "integer", "format": _INTEGERS[field.field_type]}
    elif field.field_type == "FloatField":
        schema = {"type": "number", "format": "double"}
    elif field.field_type == "BooleanField":
        schema = {"type": "boolean"}
    elif field.field_type == "JSONField":
        schema = {}
    else:
        schema = {"type": "string"}
        if field.field_type in _STRINGS:
            schema["format"] = _STRINGS[field.field_type]
        if field.field_type == "DecimalField":
            schema["pattern"] = _decimal_pattern(field)
        if field.max_length:
            schema["maxLength"] = field.max_length
    if field.null and schema:
        schema["nullable"] = True
    return schema


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
