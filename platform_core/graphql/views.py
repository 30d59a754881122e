"""GraphQL endpoints of a db service: ``/<prefix>/graphql`` and ``/graphiql``.

POST JSON (queries and mutations) or GET (queries only); validation errors
answer 400 with ``errors``, resolver errors carry ``extensions.code``::

    patterns = graphql_patterns(entities, options)
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass

import graphene
import orjson
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt
from graphene_django.views import GraphQLView, HttpError
from graphql import (
    ExecutionResult,
    GraphQLError,
    OperationType,
    execute,
    get_operation_ast,
    parse,
    validate,
)
from graphql.language import DocumentNode, FieldNode

from platform_core.config import get_config
from platform_core.entities import Entities
from platform_core.exceptions import (
    INTERNAL_ERROR,
    SERVICE_UNAVAILABLE,
    UNAUTHORIZED,
    APIError,
)
from platform_core.graphql.execution import LeanExecution
from platform_core.graphql.limits import validation_rules
from platform_core.graphql.schema import build_schema
from platform_core.graphql.shapes import Shapes, literal_types, shape_of
from platform_core.kinds.db import DbOptions

logger = logging.getLogger("joule.graphql")
# Errors that concern the whole request, not one field: answered with their
# HTTP status instead of 200.
_WHOLE_REQUEST = {UNAUTHORIZED: 401, SERVICE_UNAVAILABLE: 503}


def format_error(error: Exception) -> dict:
    """Return a GraphQL error as answered to clients.

    The client's own errors stay as they are, the database down becomes a
    503 and anything else a bare 500 (logged).
    Messages of unexpected exceptions (driver texts, SQL) never reach clients.
    """
    if not isinstance(error, GraphQLError):
        return {"message": str(error)}  # the view's own (HttpError: 405, 413)
    cause = error.original_error
    if cause is None or isinstance(cause, APIError | GraphQLError):
        return error.formatted
    if isinstance(cause, OperationalError | InterfaceError):
        replacement = APIError(
            SERVICE_UNAVAILABLE, 503, "The database is unavailable; retry later"
        )
    else:
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


class LimitedGraphQLView(GraphQLView):
    """graphene-django's view with the platform's limits on documents."""

    max_query_size = 20_000
    format_error = staticmethod(format_error)

    def __init__(self, max_query_size: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if max_query_size is not None:
            self.max_query_size = max_query_size

    def get_response(self, request, data, show_graphiql=False):
        """Answer 401 for bad credentials and 503 when the database is down,
        as the REST API does."""
        result, status = super().get_response(request, data, show_graphiql)
        if status == 200 and result and any(c in result for c in _WHOLE_REQUEST):
            codes = {
                e.get("extensions", {}).get("code")
                for e in orjson.loads(result).get("errors", ())
            }
            for code, code_status in _WHOLE_REQUEST.items():
                if code in codes:
                    return result, code_status
        return result, status

    def execute_graphql_request(
        self, request, data, query, variables, operation_name, show_graphiql=False
    ):
        """Run ``query``: parsed and validated once per text, then executed.

        A query over ``max_query_size`` characters is refused (HTTP 413); a
        mutation sent with GET is 405.
        """
        if not query:
            if show_graphiql:
                return None
            raise HttpError(HttpResponseBadRequest("Must provide query string."))
        if len(query) > self.max_query_size:
            raise HttpError(
                HttpResponse(status=413),
                message=(f"The query is longer than {self.max_query_size} characters"),
            )
        parsed = documents(self.schema).get(query, self.validation_rules)
        if isinstance(parsed, ExecutionResult):
            return parsed
        operation = get_operation_ast(parsed, operation_name)
        if (
            request.method.lower() == "get"
            and operation is not None
            and operation.operation != OperationType.QUERY
        ):
            if show_graphiql:
                return None
            raise HttpError(
                HttpResponseNotAllowed(
                    ["POST"],
                    f"Can only perform a {operation.operation.value} operation "
                    "from a POST request.",
                )
            )
        try:
            return execute(
                self.schema.graphql_schema,
                parsed,
                root_value=self.get_root_value(request),
                context_value=self.get_context(request),
                variable_values=variables,
                operation_name=operation_name,
                middleware=self.get_middleware(request),
                is_awaitable=never_awaitable,
                execution_context_class=LeanExecution,
            )
        except Exception as exc:
            return ExecutionResult(errors=[exc])


def never_awaitable(value: object) -> bool:
    """Tell graphql-core no resolver result is awaited (all are sync).

    Its own check runs for every field and costs a tenth of an execution.
    """
    return False


class Documents:
    """Parsed and validated documents of one schema, by query text (LRU), and
    the valid shapes of documents with other literal values (``shapes``)."""

    size = 512

    def __init__(self, schema: graphene.Schema) -> None:
        self.schema = schema
        self._parsed: OrderedDict[str, DocumentNode | ExecutionResult] = OrderedDict()
        self._shapes = Shapes()
        self._lock = threading.Lock()

    def get(self, query: str, rules) -> DocumentNode | ExecutionResult:
        """Return the document of ``query``, or the result holding its errors."""
        with self._lock:
            parsed = self._parsed.get(query)
            if parsed is not None:
                self._parsed.move_to_end(query)
                return parsed
        try:
            document = parse(query)
        except GraphQLError as exc:
            return ExecutionResult(errors=[exc])
        key, literals = shape_of(document)
        with self._lock:
            if self._shapes.valid(key, literals):
                return document  # not kept by text: its values are one-off
            learnt = self._shapes.knows(key)
        schema = self.schema.graphql_schema
        errors = validate(schema, document, rules)
        parsed = ExecutionResult(data=None, errors=errors) if errors else document
        types = None if errors or learnt else literal_types(schema, document, literals)
        with self._lock:
            self._parsed[query] = parsed
            if len(self._parsed) > self.size:
                self._parsed.popitem(last=False)
            if not errors and not learnt:
                self._shapes.learn(key, types)
        return parsed


_documents: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def documents(schema: graphene.Schema) -> Documents:
    """Return the document cache of ``schema``."""
    found = _documents.get(schema)
    if found is None:
        found = _documents.setdefault(schema, Documents(schema))
    return found


def graphql_patterns(entities: Entities, options: DbOptions) -> list:
    """Return the GraphQL and GraphiQL routes of a service."""
    schema = build_schema(entities, options)
    limits = get_config().graphql
    view = LimitedGraphQLView.as_view
    common = {
        "schema": schema,
        "validation_rules": validation_rules(limits),
        "max_query_size": limits.max_query_size,
    }
    # Token-authenticated API: CSRF protects cookie-based form posts only.
    api = csrf_exempt(view(graphiql=False, **common))
    ide = csrf_exempt(view(graphiql=True, **common))
    return [
        re_path(r"^graphql/?$", api, name="graphql"),
        re_path(r"^graphiql/?$", ide, name="graphiql"),
    ]


@dataclass(frozen=True)
class KnownRequest:
    """A POSTed operation whose document is valid under the view's rules."""

    schema: graphene.Schema
    document: DocumentNode
    variables: dict | None
    operation_name: str | None
    # mutation: writes (the fast routes run those where writes run).
    mutation: bool
    # one_transaction: a mutation of one root field, so one transaction.
    one_transaction: bool = False


def known_request(view_kwargs: dict, body: bytes) -> KnownRequest | None:
    """Return the request of a JSON body holding a valid query or mutation,
    checked with the view's own rules (and kept, as the view keeps it), or
    None when the view must answer it (anything else)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    query = data.get("query") if isinstance(data, dict) else None
    variables = data.get("variables")
    operation_name = data.get("operationName")
    if (
        not isinstance(query, str)
        or len(query) > view_kwargs.get("max_query_size", 20_000)
        or not isinstance(variables, dict | None)
        or not isinstance(operation_name, str | None)
    ):
        return None
    schema = view_kwargs["schema"]
    document = documents(schema).get(query, view_kwargs["validation_rules"])
    if not isinstance(document, DocumentNode):
        return None  # not valid: the view words the errors
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation == OperationType.SUBSCRIPTION:
        return None
    mutation = operation.operation == OperationType.MUTATION
    fields = operation.selection_set.selections
    one = mutation and len(fields) == 1 and isinstance(fields[0], FieldNode)
    return KnownRequest(schema, document, variables, operation_name, mutation, one)


def answer_known(request: KnownRequest) -> tuple[int, bytes] | None:
    """Execute a known request; return (status, JSON) as the view answers it.

    None when the answer is a request-level error (bad variables), which
    happens before any resolver runs: the view then words it.
    """
    result = execute(
        request.schema.graphql_schema,
        request.document,
        variable_values=request.variables,
        operation_name=request.operation_name,
        is_awaitable=never_awaitable,
        execution_context_class=LeanExecution,
    )
    answer: dict = {}
    if result.errors:
        if any(not getattr(error, "path", None) for error in result.errors):
            return None
        answer["errors"] = [format_error(error) for error in result.errors]
    answer["data"] = result.data
    codes = {e.get("extensions", {}).get("code") for e in answer.get("errors", ())}
    status = next((s for code, s in _WHOLE_REQUEST.items() if code in codes), 200)
    return status, orjson.dumps(answer)
