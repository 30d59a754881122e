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
"""

from __future__ import annotations

import graphene

from platform_core import naming
from platform_core.entities import Entities, Entity
from platform_core.exceptions import INVALID_VALUE, bad_request
from platform_core.graphql.converter import input_scalar
from platform_core.graphql.loaders import check_limit, order_of, plain, prefetch
from platform_core.graphql.subscriptions import (
    subscription_events,
    subscription_fields,
)
from platform_core.graphql.types import SchemaTypes
from platform_core.kinds.db import DbOptions


def _list_field(types: SchemaTypes, entity: Entity) -> graphene.Field:
    def resolve(root, info, where=None, orderBy=None, limit=None, offset=None):
        limit, offset = check_limit(limit, types.options, offset)
        rows = entity.find(plain(where), order_of(orderBy), limit=limit, offset=offset)
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
    name = f"{naming.pascal(entity.info.entity)}Count"
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
        values = plain(input)
        if keys and all(values.get(k) is not None for k in keys):
            row, _ = entity.update(
                {k: values[k] for k in keys}, values, partial=True, upsert=True
            )
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


def build_schema(entities: Entities, options: DbOptions) -> graphene.Schema:
    """Return the graphene schema of a db service's entities."""
    types = SchemaTypes(entities, options)
    queries, mutations, subscriptions = {}, {}, {}
    for entity in entities:
        info = entity.info
        subscriptions.update(subscription_fields(types, entity))
        pascal = naming.pascal(info.entity)
        queries[info.plural] = _list_field(types, entity)
        queries[f"count{naming.pascal(info.plural)}"] = _count_field(types, entity)
        if info.primary_key:
            by = "And".join(naming.pascal(k) for k in info.primary_key)
            queries[f"get{pascal}By{by}"] = _get_field(types, entity)
        if info.writable:
            mutations[f"save{pascal}"] = _save_field(types, entity)
            mutations[f"insert{naming.pascal(info.plural)}"] = _insert_field(
                types, entity
            )
            mutations[f"delete{naming.pascal(info.plural)}"] = _delete_field(
                types, entity
            )
    query = type("Query", (graphene.ObjectType,), queries)
    mutation = (
        type("Mutation", (graphene.ObjectType,), mutations) if mutations else None
    )
    subscription = (
        type("Subscription", (graphene.ObjectType,), subscriptions)
        if subscriptions
        else None
    )
    schema = graphene.Schema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        auto_camelcase=False,
    )
    # The event each subscription field follows, for the websocket consumer.
    schema.subscription_events = subscription_events(entities.schema.service, entities)
    return schema
