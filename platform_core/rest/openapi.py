"""OpenAPI for the generated REST API, through drf-spectacular.

``EntitySchema`` describes each generated view from its entity: one
component per entity (``Product``, ``ProductInput``, ``ProductPatch``),
every where/orderby/paging parameter and every error response::

    GET /products/openapi.json   (SpectacularAPIView over the service's routes)
    GET /products/docs           (Swagger UI)
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

from platform_core import naming
from platform_core.fieldtypes import OPERATORS, fieldtypes
from platform_core.introspection import ModelInfo
from platform_core.rest.components import (
    ERRORS,
    entity_components,
    field_schema,
    filter_schema,
    or_pattern,
)
from platform_core.rest.params import MAX_OFFSET

CURSOR = "An X-Start-After or X-End-Before header of an earlier answer"


class EntitySchema(AutoSchema):
    """Describe a generated view from its entity (see ``rest.views``)."""

    def _component(self, name: str, schema: dict) -> dict:
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema
        )
        self.registry.register_on_missing(component)
        return component.ref

    def _ref(self, info: ModelInfo, suffix: str = "") -> dict:
        components = entity_components(info)
        for name, schema in components.items():
            self._component(name, schema)
        return {"$ref": f"#/components/schemas/{naming.pascal(info.entity)}{suffix}"}

    def _error(self) -> dict:
        return self._component(
            "Error",
            {
                "type": "object",
                "required": ["statusCode", "code", "error", "message"],
                "properties": {
                    "statusCode": {"type": "integer"},
                    "code": {"type": "string"},
                    "error": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        )

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        """Return the OpenAPI operation of this view and method."""
        self.registry = registry
        view = self.view
        entity = view.entity.info
        kind, method = type(view).__mro__[1].__name__, method.upper()
        operation_id = f"{view.__class__.__name__.removesuffix('View')}{method.title()}"
        build = getattr(self, f"_{kind}_{method.lower()}")
        operation = {
            "operationId": naming.camel(operation_id),
            "tags": [entity.plural],
            **build(entity),
        }
        operation["parameters"] = self._path_parameters(path) + operation.get(
            "parameters", []
        )
        for status, text in ERRORS.items():
            operation["responses"].setdefault(
                str(status),
                {
                    "description": text,
                    "content": {"application/json": {"schema": self._error()}},
                },
            )
        return operation

    def _path_parameters(self, path: str) -> list[dict]:
        info = getattr(self.view, "parent", None) or self.view.entity
        names = [
            segment[1:-1] for segment in path.split("/") if segment.startswith("{")
        ]
        return [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": field_schema(info.info.fields[name]),
            }
            for name in names
        ]

    @staticmethod
    def _query(name: str, schema: dict, description: str = "") -> dict:
        return {
            "name": name,
            "in": "query",
            "required": False,
            "schema": schema,
            **({"description": description} if description else {}),
        }

    def _fields_param(self, info: ModelInfo) -> dict:
        names = {"type": "string", "enum": list(info.fields)}
        return {
            **self._query(
                "fields",
                {"type": "array", "items": names, "minItems": 1},
                "Comma-separated fields to return: " + ",".join(info.fields),
            ),
            "style": "form",
            "explode": False,  # fields=id,title
        }

    def _where_params(self, info: ModelInfo) -> list[dict]:
        params = []
        for field in info.fields.values():
            allowed = fieldtypes.operators(field)
            for op in [op for op in OPERATORS if op in allowed]:
                name = f"where.{field.name}.{op}"
                params.append(self._query(name, filter_schema(field, op)))
        params.append(
            self._query(
                "where.or",
                {"type": "string", "pattern": or_pattern(info)},
                "Alternatives: (field.op=value|field.op=value)",
            )
        )
        return params

    def _list_params(self, info: ModelInfo, limit_max: int) -> list[dict]:
        options = self.view.db_options
        return [
            *self._where_params(info),
            *(
                self._query(
                    f"orderby.{name}", {"type": "string", "enum": ["asc", "desc"]}
                )
                for name in info.fields
            ),
            self._fields_param(info),
            self._query(
                "limit",
                {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": limit_max,
                    "default": options.limit_default,
                },
            ),
            self._query(
                "offset",
                {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
                "Not with cursor pagination",
            ),
            self._query("totalCount", {"type": "boolean"}, "Add X-Total-Count"),
            self._query("cursor", {"type": "boolean"}, "Cursor pagination"),
            self._query("startAfter", {"type": "string"}, CURSOR),
            self._query(
                "endBefore", {"type": "string"}, CURSOR + "; not with startAfter"
            ),
        ]

    def _list_response(self, info: ModelInfo) -> dict:
        headers = {
            name: {"schema": {"type": "string"}}
            for name in ("X-Total-Count", "X-Start-After", "X-End-Before")
        }
        return {
            "200": {
                "description": f"A page of {info.plural}",
                "headers": headers,
                "content": {
                    "application/json": {
                        "schema": {"type": "array", "items": self._ref(info)}
                    }
                },
            }
        }

    def _one(self, info: ModelInfo, status: str = "200", text: str = "") -> dict:
        return {
            status: {
                "description": text or f"The {info.entity}",
                "content": {"application/json": {"schema": self._ref(info)}},
            }
        }

    def _body(self, info: ModelInfo, suffix: str, many: bool = False) -> dict:
        schema = self._ref(info, suffix)
        if many:
            rows = {"type": "array", "items": schema, "minItems": 1}
            schema = {"oneOf": [schema, rows]}
        return {"required": True, "content": {"application/json": {"schema": schema}}}

    def _CollectionView_get(self, info):
        return {
            "summary": f"List {info.plural}",
            "parameters": self._list_params(info, self.view.db_options.limit_max),
            "responses": self._list_response(info),
        }

    def _CollectionView_post(self, info):
        schema = self._ref(info)
        return {
            "summary": f"Insert one or many {info.plural}",
            "parameters": [self._fields_param(info)],
            "requestBody": self._body(info, "Input", many=True),
            "responses": {
                "201": {
                    "description": "The inserted rows",
                    "content": {
                        "application/json": {
                            "schema": {
                                "oneOf": [schema, {"type": "array", "items": schema}]
                            }
                        }
                    },
                }
            },
        }

    def _CollectionView_put(self, info):
        return {
            "summary": f"Update the {info.plural} matching where",
            "parameters": [*self._where_params(info), self._fields_param(info)],
            "requestBody": self._body(info, "Patch"),
            "responses": self._list_response(info),
        }

    def _CollectionView_delete(self, info):
        return {
            "summary": f"Delete the {info.plural} matching where",
            "parameters": [*self._where_params(info), self._fields_param(info)],
            "responses": self._list_response(info),
        }

    def _ItemView_get(self, info):
        return {
            "summary": f"Get one {info.entity}",
            "parameters": [self._fields_param(info)],
            "responses": self._one(info),
        }

    def _ItemView_put(self, info):
        return {
            "summary": f"Replace (or create) one {info.entity}",
            "parameters": [self._fields_param(info)],
            "requestBody": self._body(info, "Input"),
            "responses": {**self._one(info), **self._one(info, "201", "Created")},
        }

    def _ItemView_patch(self, info):
        return {
            "summary": f"Update fields of one {info.entity}",
            "parameters": [self._fields_param(info)],
            "requestBody": self._body(info, "Patch"),
            "responses": self._one(info),
        }

    def _ItemView_delete(self, info):
        return {
            "summary": f"Delete one {info.entity}",
            "parameters": [self._fields_param(info)],
            "responses": self._one(info),
        }

    def _RelationView_get(self, info):
        return {
            "summary": f"The {self.view.relation.name} of a "
            f"{self.view.parent.info.entity}",
            "parameters": [self._fields_param(info)],
            "responses": self._one(info),
        }

    def _ReverseRelationView_get(self, info):
        return {
            "summary": f"The {info.plural} of a {self.view.parent.info.entity}",
            "parameters": self._list_params(info, self.view.db_options.limit_max),
            "responses": self._list_response(info),
        }


def drop_slash_duplicates(endpoints, **kwargs):
    """Preprocessing hook: document each route once, without the trailing slash.

    Routes match ``/?$``, which path simplification turns into a final "/".
    """
    seen, result = set(), []
    for path, regex, method, view in endpoints:
        path = path.rstrip("/") or "/"
        if (path, method) not in seen:
            seen.add((path, method))
            result.append((path, regex, method, view))
    return result
