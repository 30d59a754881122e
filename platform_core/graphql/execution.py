"""graphql-core's execution with a shortcut for plain leaf fields.

Most fields of a generated query are columns: a scalar read from the row
dict by graphene's default resolver. graphql-core gives each one the full
treatment (resolve info, argument values, resolver call, value completion),
several times the cost of reading and serializing the value. ``LeanExecution``
(passed as ``execution_context_class``, graphql-core's extension point) reads
such a field directly: a field of one node, without arguments or directives,
resolved by graphene's default resolver from a ``dict``, whose type is a
scalar or enum. Anything else, a null in a non-null field and a value its
type cannot serialize take graphql-core's own path, so answers and errors are
graphql-core's::

    execute(schema, document, execution_context_class=LeanExecution)
"""

from __future__ import annotations

import functools
import weakref
from asyncio import gather
from typing import Any

from graphene.types.resolver import dict_or_attr_resolver
from graphql import (
    ExecutionContext,
    GraphQLObjectType,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
)
from graphql.pyutils import Path, Undefined

# parent type -> field name -> (key, default, serialize, nullable) or None
_leaves: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class LeanExecution(ExecutionContext):
    """An execution context reading plain leaf fields straight from rows."""

    def execute_fields(self, parent_type, source_value, path, fields):
        """Execute ``fields`` as graphql-core does, plain leaves read here."""
        if type(source_value) is not dict or self.middleware_manager is not None:
            return super().execute_fields(parent_type, source_value, path, fields)
        leaves = _leaves_of(parent_type)
        results = {}
        awaitable = []
        for response_name, field_nodes in fields.items():
            node = field_nodes[0]
            if len(field_nodes) == 1 and not node.arguments and not node.directives:
                leaf = leaves.get(node.name.value, False)
                if leaf is False:
                    leaf = leaves[node.name.value] = _plain_leaf(parent_type, node)
                if leaf is not None:
                    value = _read(leaf, source_value)
                    if value is not Undefined:
                        results[response_name] = value
                        continue
            field_path = Path(path, response_name, parent_type.name)
            result = self.execute_field(
                parent_type, source_value, field_nodes, field_path
            )
            if result is not Undefined:
                results[response_name] = result
                if self.is_awaitable(result):
                    awaitable.append(response_name)
        if not awaitable:
            return results

        async def gathered() -> dict:  # as graphql-core gathers them
            done = await gather(*(results[name] for name in awaitable))
            results.update(zip(awaitable, done, strict=True))
            return results

        return gathered()


def _read(leaf: tuple, source: dict) -> Any:
    """The serialized value, or Undefined when graphql-core must answer."""
    key, default, serialize, nullable = leaf
    value = source.get(key, default)
    if value is None:
        return None if nullable else Undefined
    try:
        serialized = serialize(value)
    except Exception:  # graphql-core words the error
        return Undefined
    return Undefined if serialized is None else serialized


def _leaves_of(parent_type: GraphQLObjectType) -> dict:
    """Field name -> leaf tuple (or None) of ``parent_type``, filled on use."""
    leaves = _leaves.get(parent_type)
    if leaves is None:
        leaves = _leaves.setdefault(parent_type, {})
    return leaves


def _plain_leaf(parent_type: GraphQLObjectType, node) -> tuple | None:
    """(key, default, serialize, nullable) of a plain leaf field, else None."""
    field = parent_type.fields.get(node.name.value)
    if field is None:
        return None  # __typename and other meta fields
    resolve = field.resolve
    if not (
        isinstance(resolve, functools.partial)
        and resolve.func is dict_or_attr_resolver
        and len(resolve.args) == 2
        and not resolve.keywords
    ):
        return None
    named = get_nullable_type(field.type)
    if not is_leaf_type(named):
        return None
    key, default = resolve.args
    return key, default, named.serialize, not is_non_null_type(field.type)
