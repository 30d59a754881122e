"""GraphQL types of a db service: one object type per entity, and its inputs.

Built once per service from the entities; relations are fields both ways
(``post { owner { name } }``, ``owner { posts(limit: 2) { id } }``)::

    types = SchemaTypes(entities, options)
    types.object("post")      # graphene.ObjectType "Post"
    types.where("post")       # input "PostWhere"
"""

from __future__ import annotations

import graphene

from platform_core import naming
from platform_core.config.services import DbOptions
from platform_core.entities import Entities
from platform_core.fieldtypes import fieldtypes
from platform_core.graphql.converter import input_scalar, output_scalar
from platform_core.graphql.loaders import prefetched
from platform_core.introspection import FieldInfo, ModelInfo

_COMPARE = ("eq", "neq", "gt", "gte", "lt", "lte")


class Direction(graphene.Enum):
    """Sort direction of an orderBy entry."""

    ASC = "asc"
    DESC = "desc"


class SchemaTypes:
    """Build and keep the GraphQL types of one db service."""

    def __init__(
        self,
        entities: Entities,
        options: DbOptions,
        namespaced: frozenset[str] = frozenset(),
        inputs: dict[str, type] | None = None,
    ) -> None:
        """Build types for ``entities``.

        Entities named in ``namespaced`` get the service id in their names
        (``orders`` + ``customer``: type ``OrdersCustomer``, list
        ``ordersCustomers``); ``inputs`` shares the named input types of
        several services in one composed schema.
        """
        self.entities = entities
        self.options = options
        self.namespaced = namespaced
        self._objects: dict[str, type] = {}
        self._inputs: dict[str, type] = {} if inputs is None else inputs

    def public(self, entity: str) -> str:
        """Return the name ``entity`` has in the schema (namespaced or not)."""
        if entity in self.namespaced:
            return naming.camel(self.entities.schema.service) + naming.pascal(entity)
        return entity

    def public_plural(self, entity: str) -> str:
        """Return the plural ``entity`` has in the schema."""
        plural = self.entities[entity].info.plural
        if entity in self.namespaced:
            return naming.camel(self.entities.schema.service) + naming.pascal(plural)
        return plural

    def pascal(self, entity: str) -> str:
        """Return the type name of ``entity`` (``Post``, ``OrdersCustomer``)."""
        return naming.pascal(self.public(entity))

    def _named(self, name: str, base: type, attrs: dict) -> type:
        if name not in self._inputs:
            self._inputs[name] = type(name, (base,), attrs)
        return self._inputs[name]

    def scalar_where(self, field: FieldInfo) -> type:
        """Return the operators input of a field's type (shared per type)."""
        scalar = input_scalar(field)
        is_list = isinstance(scalar, graphene.List)
        base = scalar.of_type if is_list else scalar
        name = f"{base.__name__}{'List' if is_list else ''}Where"
        attrs = {op: graphene.InputField(scalar) for op in _COMPARE}
        attrs.update(
            {
                "in": graphene.List(graphene.NonNull(base)),
                "nin": graphene.List(graphene.NonNull(base)),
                "isNull": graphene.Boolean(),
                "like": graphene.String(),
                "ilike": graphene.String(),
            }
        )
        if is_list:
            attrs.update(
                contains=scalar,
                contained=scalar,
                overlaps=scalar,
                any=graphene.InputField(base),
                all=graphene.InputField(base),
            )
        allowed = fieldtypes.operators(field)
        attrs = {op: shape for op, shape in attrs.items() if op in allowed}
        return self._named(name, graphene.InputObjectType, attrs)

    def where(self, entity: str) -> type:
        """Return ``<Entity>Where``: operators per field, ANDed, plus ``or``."""
        info = self.entities[entity].info
        name = f"{self.pascal(entity)}Where"
        attrs = {
            f.name: graphene.InputField(self.scalar_where(f))
            for f in info.fields.values()
        }
        attrs["or"] = graphene.List(graphene.NonNull(lambda: self._inputs[name]))
        return self._named(name, graphene.InputObjectType, attrs)

    def order_by(self, entity: str) -> type:
        """Return ``<Entity>OrderBy``: {field, direction}."""
        info = self.entities[entity].info
        pascal = self.pascal(entity)
        fields = self._named(
            f"{pascal}OrderByField", graphene.Enum, {name: name for name in info.fields}
        )
        return self._named(
            f"{pascal}OrderBy",
            graphene.InputObjectType,
            {
                "field": graphene.NonNull(fields),
                "direction": Direction(default_value="asc"),
            },
        )

    def input(self, entity: str) -> type:
        """Return ``<Entity>Input``: every column, all optional."""
        info = self.entities[entity].info
        return self._named(
            f"{self.pascal(entity)}Input",
            graphene.InputObjectType,
            {
                f.name: graphene.InputField(input_scalar(f))
                for f in info.fields.values()
            },
        )

    def list_arguments(self, entity: str) -> dict:
        """Return the arguments of a list field: where, orderBy, limit, offset."""
        return {
            "where": graphene.Argument(self.where(entity)),
            "orderBy": graphene.List(graphene.NonNull(self.order_by(entity))),
            "limit": graphene.Int(),
            "offset": graphene.Int(),
        }

    def object(self, entity: str) -> type:
        """Return the object type of ``entity`` (built on first use)."""
        if entity not in self._objects:
            self._objects[entity] = self._build_object(self.entities[entity].info)
        return self._objects[entity]

    def _build_object(self, info: ModelInfo) -> type:
        attrs = {}
        for field in info.fields.values():
            scalar = output_scalar(field)
            attrs[field.name] = graphene.Field(
                graphene.NonNull(scalar) if not field.null else scalar
            )
        for relation in info.relations:
            attrs[relation.name] = graphene.Field(
                lambda target=relation.entity: self.object(target), resolver=prefetched
            )
        for reverse in info.reverse:
            if reverse.name in attrs:
                continue
            attrs[reverse.name] = graphene.Field(
                graphene.NonNull(
                    graphene.List(
                        graphene.NonNull(
                            lambda target=reverse.entity: self.object(target)
                        )
                    )
                ),
                args=self.list_arguments(reverse.entity),
                resolver=prefetched,
            )
        name = self.pascal(info.entity)
        return type(name, (graphene.ObjectType,), {"__qualname__": name, **attrs})
