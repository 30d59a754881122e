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
graphql-core's.

``run_document`` is the one execution of a parsed document (the views, the
fast routes and subscriptions call it), and ``answer_of`` the one way a
result becomes an answer: errors worded by ``format_error``, the status by
``status_of``::

    result = run_document(schema, document, variables=variables)
    status, body = answer_of(result)      # (200, {"data": ...})
"""

from __future__ import annotations

import functools
import logging
import weakref
from asyncio import gather
from typing import Any

from graphene.types.resolver import dict_or_attr_resolver
from graphql import (
    ExecutionContext,
    ExecutionResult,
    GraphQLError,
    GraphQLObjectType,
    execute,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
)
from graphql.pyutils import Path, Undefined

from platform_core.exceptions import (
    GATEWAY_TIMEOUT,
    INTERNAL_ERROR,
    SERVICE_UNAVAILABLE,
    UNAUTHORIZED,
    APIError,
    database_error,
)

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


logger = logging.getLogger("joule.graphql")
# Errors that concern the whole request, not one field: answered with their
# HTTP status instead of 200.
WHOLE_REQUEST = {UNAUTHORIZED: 401, SERVICE_UNAVAILABLE: 503, GATEWAY_TIMEOUT: 504}


def format_error(error: Exception) -> dict:
    """Return a GraphQL error as answered to clients.

    The client's own errors stay as they are, database errors are answered
    as REST answers them (``exceptions.database_error``: bad data 400, down
    503, statement timeout 504) and anything else a bare 500 (logged).
    Messages of unexpected exceptions (driver texts, SQL) never reach clients.
    """
    if not isinstance(error, GraphQLError):
        return {"message": str(error)}  # the view's own (HttpError: 405, 413)
    cause = error.original_error
    if cause is None or isinstance(cause, APIError | GraphQLError):
        return error.formatted
    replacement = database_error(cause)  # the client's data: 400; down: 503
    if replacement is None:
        logger.error("GraphQL resolver failed", exc_info=cause)
        replacement = APIError(INTERNAL_ERROR, 500, "Internal server error")
    return GraphQLError(
        replacement.message,
        nodes=error.nodes,
        path=error.path,
        original_error=replacement,
    ).formatted


def formatted_result(result: ExecutionResult) -> dict:
    """Return an execution result as sent, errors worded as ``format_error``."""
    answer: dict = {"data": result.data}
    if result.errors:
        answer["errors"] = [format_error(error) for error in result.errors]
    return answer


def never_awaitable(value: object) -> bool:
    """Tell graphql-core no resolver result is awaited (all are sync).

    Its own check runs for every field and costs a tenth of an execution.
    """
    return False


def run_document(
    schema: Any,
    document: Any,
    variables: dict | None = None,
    operation_name: str | None = None,
    **kwargs: Any,
) -> ExecutionResult:
    """Execute a parsed, validated ``document`` on ``schema`` (graphene's or
    graphql-core's).

    Resolvers are synchronous and plain leaf fields take ``LeanExecution``'s
    shortcut; ``kwargs`` go to graphql-core's ``execute`` (root_value,
    context_value, middleware).
    """
    return execute(
        getattr(schema, "graphql_schema", schema),
        document,
        variable_values=variables,
        operation_name=operation_name,
        is_awaitable=never_awaitable,
        execution_context_class=LeanExecution,
        **kwargs,
    )


def status_of(errors: list[dict]) -> int:
    """Return the HTTP status of an answer whose formatted ``errors`` these are.

    401 for bad credentials and 503 with the database down, as the REST API
    answers; 200 otherwise (field errors travel in the body).
    """
    codes = {error.get("extensions", {}).get("code") for error in errors}
    return next((s for code, s in WHOLE_REQUEST.items() if code in codes), 200)


def is_request_error(result: ExecutionResult) -> bool:
    """Return whether ``result`` failed as a whole (no field ran): HTTP 400."""
    return bool(result.errors) and any(
        not getattr(error, "path", None) for error in result.errors
    )


def answer_of(result: ExecutionResult) -> tuple[int, dict]:
    """Return (status, body) of ``result`` as every GraphQL endpoint answers.

    A request-level error is a 400 without ``data``, as graphene-django does.
    """
    answer: dict = {}
    if result.errors:
        answer["errors"] = [format_error(error) for error in result.errors]
    if is_request_error(result):
        return 400, answer
    answer["data"] = result.data
    return status_of(answer.get("errors", ())), answer
