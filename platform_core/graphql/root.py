"""The GraphQL schema of a db service: queries and mutations over its entities.

For each entity ``post`` (plural ``posts``, key ``id``)::

    posts(where, orderBy, limit, offset): [Post!]!
    getPostById(id): Post
    countPosts(where): PostCount!       { total }
    savePost(input): Post               (insert, or update when the key exists)
    insertPosts(inputs): [Post!]!
    deletePosts(where): [Post!]!        (returns the deleted rows)
    postSaved: Post!                    (subscription: every insert and update)
    postDeleted: Post!                  (subscription: every delete)

``compose_schema`` puts several services in one schema (the gateway's
``/graphql``), namespacing entities whose names collide::

    composed_schema(services)   # shopCustomers, crmCustomers, posts, ...
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import graphene

from platform_core import naming
from platform_core.config.services import DbOptions
from platform_core.entities import Entities, Entity
from platform_core.exceptions import (
    INVALID_VALUE,
    NOT_FOUND,
    APIError,
    ConfigError,
    bad_request,
)
from platform_core.graphql.converter import input_scalar
from platform_core.graphql.loaders import (
    check_limit,
    check_selection,
    order_of,
    plain,
    prefetch,
    selected_fields,
)
from platform_core.graphql.subscriptions import subscription_fields
from platform_core.graphql.types import SchemaTypes


def _list_field(types: SchemaTypes, entity: Entity) -> graphene.Field:
    def resolve(root, info, where=None, orderBy=None, limit=None, offset=None):
        limit, offset = check_limit(limit, types.options, offset)
        check_selection(types, entity, info.field_nodes[0], info.fragments)
        rows = entity.find(
            plain(where),
            order_of(orderBy),
            fields=selected_fields(entity, info.field_nodes[0], info),
            limit=limit,
            offset=offset,
        )
        prefetch(types, entity, rows, info.field_nodes[0], info)
        return rows

    item = graphene.NonNull(types.object(entity.info.entity))
    return graphene.Field(
        graphene.NonNull(graphene.List(item)),
        resolver=resolve,
        args=types.list_arguments(entity.info.entity),
    )


def _get_field(types: SchemaTypes, entity: Entity) -> graphene.Field:
    info = entity.info

    def resolve(root, graphql_info, **key):
        check_selection(
            types, entity, graphql_info.field_nodes[0], graphql_info.fragments
        )
        row = entity.get(key)
        if row is not None:
            prefetch(types, entity, [row], graphql_info.field_nodes[0], graphql_info)
        return row

    args = {
        name: graphene.NonNull(input_scalar(info.fields[name]))
        for name in info.primary_key
    }
    return graphene.Field(types.object(info.entity), resolver=resolve, args=args)


def _count_field(types: SchemaTypes, entity: Entity) -> graphene.Field:
    name = f"{types.pascal(entity.info.entity)}Count"
    count_type = type(
        name, (graphene.ObjectType,), {"total": graphene.NonNull(graphene.Int)}
    )
    return graphene.Field(
        graphene.NonNull(count_type),
        where=graphene.Argument(types.where(entity.info.entity)),
        resolver=lambda root, info, where=None: {"total": entity.count(plain(where))},
    )


def _returning(types, entity, rows, info):
    prefetch(types, entity, rows, info.field_nodes[0], info)
    return rows


def _save_field(types: SchemaTypes, entity: Entity) -> graphene.Field:
    keys = entity.info.primary_key

    def resolve(root, info, input):
        check_selection(types, entity, info.field_nodes[0], info.fragments)
        values = plain(input)
        if keys and all(values.get(k) is not None for k in keys):
            row, _ = entity.update(
                {k: values[k] for k in keys}, values, partial=True, upsert=True
            )
            if row is None:  # there, but hidden from the caller: as REST's PUT
                raise APIError(NOT_FOUND, 404, f"No {entity.info.entity} with that key")
        else:
            row = entity.insert([values])[0]
        return _returning(types, entity, [row], info)[0]

    return graphene.Field(
        types.object(entity.info.entity),
        resolver=resolve,
        input=graphene.NonNull(types.input(entity.info.entity)),
    )


def _insert_field(types: SchemaTypes, entity: Entity) -> graphene.Field:
    def resolve(root, info, inputs):
        check_selection(types, entity, info.field_nodes[0], info.fragments)
        return _returning(types, entity, entity.insert(plain(inputs)), info)

    item = graphene.NonNull(types.object(entity.info.entity))
    inputs = graphene.NonNull(
        graphene.List(graphene.NonNull(types.input(entity.info.entity)))
    )
    return graphene.Field(
        graphene.NonNull(graphene.List(item)), resolver=resolve, inputs=inputs
    )


def _delete_field(types: SchemaTypes, entity: Entity) -> graphene.Field:
    def resolve(root, info, where):
        check_selection(types, entity, info.field_nodes[0], info.fragments)
        if not plain(where):
            raise bad_request(
                INVALID_VALUE, "delete needs at least one where condition"
            )
        return _returning(types, entity, entity.delete(where=plain(where)), info)

    item = graphene.NonNull(types.object(entity.info.entity))
    return graphene.Field(
        graphene.NonNull(graphene.List(item)),
        resolver=resolve,
        where=graphene.NonNull(types.where(entity.info.entity)),
    )


@dataclass
class RootFields:
    """The root fields of one or more services, and the events they follow."""

    queries: dict = field(default_factory=dict)
    mutations: dict = field(default_factory=dict)
    subscriptions: dict = field(default_factory=dict)
    # events: subscription field -> "<service>.<entity>.<saved|deleted>".
    events: dict = field(default_factory=dict)
    # sources: subscription field -> (SchemaTypes, Entity), for checks.
    sources: dict = field(default_factory=dict)

    def add(self, types: SchemaTypes, entity: Entity) -> None:
        """Add the fields of ``entity`` under its public names.

        Raise ConfigError when another entity already has those names.
        """
        info = entity.info
        if types.public_plural(info.entity) in self.queries:
            raise ConfigError(
                f"The GraphQL schema has two entities named "
                f"'{types.public(info.entity)}'; rename a table in service "
                f"'{types.entities.schema.service}'."
            )
        pascal = types.pascal(info.entity)
        plural = naming.pascal(types.public_plural(info.entity))
        self.queries[types.public_plural(info.entity)] = _list_field(types, entity)
        self.queries[f"count{plural}"] = _count_field(types, entity)
        if info.primary_key:
            by = "And".join(naming.pascal(k) for k in info.primary_key)
            self.queries[f"get{pascal}By{by}"] = _get_field(types, entity)
        if info.writable:
            self.mutations[f"save{pascal}"] = _save_field(types, entity)
            self.mutations[f"insert{plural}"] = _insert_field(types, entity)
            self.mutations[f"delete{plural}"] = _delete_field(types, entity)
        for action, field_ in subscription_fields(types, entity).items():
            name = types.public(info.entity) + action
            self.subscriptions[name] = field_
            self.events[name] = f"{entity.event}.{action.lower()}"
            self.sources[name] = (types, entity)

    def schema(self) -> graphene.Schema:
        """Return the graphene schema of these fields."""

        def object_type(name: str, fields: dict) -> type | None:
            return type(name, (graphene.ObjectType,), fields) if fields else None

        schema = graphene.Schema(
            query=object_type("Query", self.queries),
            mutation=object_type("Mutation", self.mutations),
            subscription=object_type("Subscription", self.subscriptions),
            auto_camelcase=False,
        )
        # The event each subscription field follows, for the websocket consumer.
        schema.subscription_events = dict(self.events)
        schema.subscription_sources = dict(self.sources)
        return schema


def build_schema(entities: Entities, options: DbOptions) -> graphene.Schema:
    """Return the graphene schema of a db service's entities."""
    types = SchemaTypes(entities, options)
    fields = RootFields()
    for entity in entities:
        fields.add(types, entity)
    return fields.schema()


def compose_schema(services: list[tuple[Entities, DbOptions]]) -> graphene.Schema:
    """Return one schema over the entities of several db services.

    An entity name found in more than one service is namespaced by service
    in each of them (``orders`` + ``customer``: ``ordersCustomers``,
    ``getOrdersCustomerById``, type ``OrdersCustomer``); the others keep
    their names. Raise ConfigError when a namespaced name still collides
    (service ``orders`` with ``customer``, service ``x`` with ``ordersCustomer``).
    """
    owners = Counter(e.info.entity for entities, _ in services for e in entities)
    shared_inputs: dict[str, type] = {}
    fields = RootFields()
    for entities, options in services:
        namespaced = frozenset(
            e.info.entity for e in entities if owners[e.info.entity] > 1
        )
        types = SchemaTypes(entities, options, namespaced, shared_inputs)
        for entity in entities:
            fields.add(types, entity)
    return fields.schema()


_composed: list = [(), None]


def composed_schema(specs) -> graphene.Schema:
    """Return the composed schema of the db services among ``specs``.

    Kept until one of their schemas is read again (tables changed).
    """
    from platform_core.db.catalog import get_schema
    from platform_core.entities import hooks_for

    db_specs = [spec for spec in specs if spec.kind == "db"]
    schemas = tuple(get_schema(spec) for spec in db_specs)
    built_from, composed = _composed
    if len(built_from) != len(schemas) or any(
        a is not b for a, b in zip(built_from, schemas, strict=False)
    ):
        # Each service's authorization rules apply, as on its own /graphql.
        composed = compose_schema(
            [
                (Entities(s, hooks_for(spec)), spec.options)
                for s, spec in zip(schemas, db_specs, strict=True)
            ]
        )
        _composed[:] = [schemas, composed]
    return composed
