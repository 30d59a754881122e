"""JSON schemas of entities for the OpenAPI document: fields and components.

How a column looks in JSON is said once, in ``platform_core.fieldtypes``;
``rest.openapi`` puts these in the document::

    field_schema(info.fields["price"])  # {"type": "string", "format": "decimal", ...}
    entity_components(info)             # {"Product": ..., "ProductInput": ...}
"""

from __future__ import annotations

from django.db.backends.base.operations import BaseDatabaseOperations

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


# The range of each integer field class, as the API checks it (the same on
# every engine: {"IntegerField": (-2147483648, 2147483647), ...}).
INTEGER_RANGES = BaseDatabaseOperations.integer_field_ranges
# Text is refused when it holds a NUL character (no database stores one).
NO_NUL = "^[^\\u0000]*$"


def field_schema(field: FieldInfo) -> dict:
    """Return the JSON schema of a field's values (from ``fieldtypes``).

    What the API checks and the type alone does not say is added: the range
    of an integer column and, for plain text, that NUL is refused.
    """
    schema = fieldtypes.openapi_schema(field)
    bounds = INTEGER_RANGES.get(field.field_type)
    if schema.get("type") == "integer" and bounds:
        schema["minimum"], schema["maximum"] = bounds
    if schema.get("type") == "string" and not {"format", "pattern"} & set(schema):
        schema["pattern"] = NO_NUL
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


# Operators whose value is not one of the column: a flag, a list, an array.
_LIST_OPERATORS = ("in", "nin")
_ARRAY_OPERATORS = ("contains", "contained", "overlaps")
_PATTERN_OPERATORS = ("like", "ilike")


def filter_schema(field: FieldInfo, op: str) -> dict:
    """Return the schema of the value of ``where.<field>.<op>`` in a query.

    ``in``/``nin`` take a comma-separated list of values (so text values
    hold no comma); ``eq``/``neq`` also take ``null`` (IS NULL, IS NOT
    NULL); a like pattern is text of any length.
    """
    if op == "isNull":
        return {"type": "boolean"}
    if op in _ARRAY_OPERATORS:
        return {"type": "string"}
    value = {k: v for k, v in field_schema(field).items() if k != "nullable"}
    if op in _PATTERN_OPERATORS or not value:
        return {"type": "string", "pattern": NO_NUL}
    if op in _LIST_OPERATORS:
        one = _value_pattern(value, ",")
        if one is None:
            return {"type": "string", "pattern": NO_NUL}
        if value.get("pattern") == NO_NUL and "maxLength" not in value:
            one = "[^,\\u0000]*"  # text of any length
        return {"type": "string", "pattern": f"^({one})(,({one}))*$"}
    if op in ("eq", "neq") and value.get("pattern") != NO_NUL:
        # where.x.eq=null is IS NULL (any text, "null" included, is text).
        return {"anyOf": [value, {"type": "string", "enum": ["null"]}]}
    return value


_DATE = "[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
_TIME = "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
_FORMATS = {
    "date": _DATE,
    "time": _TIME,
    "date-time": f"{_DATE}T{_TIME}(Z|[+-]0[0-9]:00)",
    "uuid": "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
}


def _value_pattern(schema: dict, separator: str = "|") -> str | None:
    """Return a regex of values of ``schema`` between ``separator``s.

    It is the (narrower) part of the values that where.or and in-lists can
    spell unambiguously; None when there is none.
    """
    kind, pattern = schema.get("type"), schema.get("pattern", NO_NUL)
    if kind == "integer":
        digits = len(str(schema.get("maximum", 2**31 - 1))) - 1
        return ("-?" if schema.get("minimum", -1) < 0 else "") + f"[0-9]{{1,{digits}}}"
    if kind == "boolean":
        return "(true|false)"
    if kind == "number":
        return "-?[0-9]{1,9}(\\.[0-9]{1,6})?"
    if kind != "string":
        return None
    if "format" in schema and pattern == NO_NUL:
        return _FORMATS.get(schema["format"])
    if pattern != NO_NUL:
        return pattern.removeprefix("^").removesuffix("$")
    length = schema.get("maxLength", 20)
    return f"[^{separator}\\u0000]{{0,{length}}}"


def or_pattern(info: ModelInfo) -> str:
    """Return the pattern of ``where.or=(field.op=value|...)`` for an entity.

    Each branch names a field, one of its comparison operators and a value
    of the field's type.
    """
    branches = []
    for field in info.fields.values():
        value = _value_pattern(field_schema(field))
        ops = [
            op
            for op in ("eq", "neq", "gt", "gte", "lt", "lte", *_PATTERN_OPERATORS)
            if op in fieldtypes.operators(field)
        ]
        if value and ops:
            branches.append(f"{field.name}\\.({'|'.join(ops)})=({value})")
    branch = f"({'|'.join(branches)})"
    return f"^\\({branch}(\\|{branch})*\\)$"
