"""GraphQL endpoints of a db service: ``/<prefix>/graphql`` and ``/graphiql``.

POST JSON (queries and mutations) or GET (queries only); validation errors
answer 400 with ``errors``, resolver errors carry ``extensions.code``. A
request refused before any GraphQL runs (not JSON, not one operation, too
deep, too large) answers the JSON error body with ``errors`` beside it::

    patterns = graphql_patterns(entities, options)
    read_operation(b'{"query": "{ posts { id } }"}')   # (query, variables, name)
"""

from __future__ import annotations

from typing import Any

import orjson
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt
from graphene_django.constants import MUTATION_ERRORS_FLAG
from graphene_django.utils.utils import set_rollback
from graphene_django.views import GraphQLView
from graphql import ExecutionResult, OperationType, get_operation_ast

from platform_core.config import get_config
from platform_core.config.services import DbOptions
from platform_core.entities import Entities
from platform_core.exceptions import (
    BAD_REQUEST,
    INVALID_BODY,
    METHOD_NOT_ALLOWED,
    PAYLOAD_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    APIError,
    bad_request,
    did_you_mean,
)
from platform_core.graphql.documents import documents
from platform_core.graphql.execution import answer_of, format_error, run_document
from platform_core.graphql.limits import validation_rules
from platform_core.graphql.root import build_schema

# Deepest nesting of arrays and objects a JSON body (or GET ``variables``)
# may have: deeper input is refused before graphql-core's recursive coercion.
MAX_JSON_DEPTH = 64
# Keys of a GraphQL-over-HTTP request body; ``extensions`` is the protocol's
# opaque map for client extensions (persisted queries), accepted and unused.
BODY_KEYS = ("query", "variables", "operationName", "extensions")


def refusal(error: APIError, allow: str | None = None) -> JsonResponse:
    """Return the answer to a request refused before any GraphQL ran.

    The JSON error body of the REST API, with the ``errors`` list GraphQL
    clients read: ``{"statusCode": 415, "code": ..., "message": ...,
    "errors": [{"message": ..., "extensions": {"code", "statusCode"}}]}``.
    """
    body = {
        **error.as_body(),
        "errors": [{"message": error.message, "extensions": error.extensions}],
    }
    response = JsonResponse(body, status=error.status)
    if allow is not None:
        response["Allow"] = allow
    return response


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Return whether arrays and objects in ``value`` nest over ``limit`` levels.

    Iterative, one level at a time: a value too deep for Python's recursion
    is answered too.
    """
    level, depth = [value], 0
    while level:
        depth += 1
        if depth > limit:
            return True
        inner = []
        for node in level:
            for child in node.values() if type(node) is dict else node:
                if type(child) is dict or type(child) is list:
                    inner.append(child)
        level = inner
    return False


def read_json(raw: bytes | str, what: str = "The JSON body") -> Any:
    """Return the JSON value of ``raw``; raise a 400 APIError when it is
    malformed or nested over ``MAX_JSON_DEPTH`` levels."""
    deep = f"{what} is nested more than {MAX_JSON_DEPTH} levels deep"
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc):  # orjson stops at 1024 levels
            raise bad_request(INVALID_BODY, deep) from None
        raise bad_request(INVALID_BODY, f"{what} is not valid JSON: {exc}") from None
    if type(value) in (dict, list) and too_deep(value):
        raise bad_request(INVALID_BODY, deep)
    return value


def read_operation(raw: bytes) -> tuple[str, dict | None, str | None]:
    """Return (query, variables, operationName) of a POSTed JSON body.

    Raise a 400 APIError when the body is not one operation: not JSON, too
    deep, a batch (a JSON array), not an object, an unknown key, or a key
    of the wrong type.
    """
    data = read_json(raw)
    if isinstance(data, list):
        raise bad_request(
            INVALID_BODY,
            "Batched operations are not supported: send one operation per "
            'request, as a JSON object {"query": ...}',
        )
    if not isinstance(data, dict):
        raise bad_request(
            INVALID_BODY,
            'The body must be a JSON object with a "query" string, '
            f"not {_json_type(data)}",
        )
    for key in data:
        if key not in BODY_KEYS:
            raise bad_request(
                INVALID_BODY,
                f'Unknown key "{key}" in the body; expected {", ".join(BODY_KEYS)}.'
                + did_you_mean(key, BODY_KEYS),
            )
    return _operation(data.get("query"), data.get("variables"), data)


def _operation(
    query: Any, variables: Any, data: dict, code: str = INVALID_BODY
) -> tuple[str, dict | None, str | None]:
    """Check the types of an operation's parts; return them.

    Raise a 400 APIError with ``code`` naming the first wrong part.
    """
    if query is None or query == "":
        raise bad_request(code, 'The request has no "query"')
    expected = {
        "query": (query, str, "a string"),
        "variables": (variables, dict | None, "a JSON object"),
        "operationName": (data.get("operationName"), str | None, "a string"),
        "extensions": (data.get("extensions"), dict | None, "a JSON object"),
    }
    for name, (value, kind, wanted) in expected.items():
        if not isinstance(value, kind):
            raise bad_request(
                code, f'"{name}" must be {wanted}, not {_json_type(value)}'
            )
    return query, variables, data.get("operationName")


def _json_type(value: Any) -> str:
    """Name the JSON type of ``value`` (for messages)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


class LimitedGraphQLView(GraphQLView):
    """graphene-django's view with the platform's limits on requests and
    documents.

    GET (queries only) and POST with a JSON body (one operation); anything
    else is refused with ``refusal`` before GraphQL runs.
    """

    max_query_size = 20_000
    format_error = staticmethod(format_error)

    def __init__(self, max_query_size: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if max_query_size is not None:
            self.max_query_size = max_query_size

    def dispatch(self, request, *args, **kwargs):
        """Answer the request; a refused one with its JSON error (4xx)."""
        if request.method not in ("GET", "POST"):
            return refusal(
                APIError(
                    METHOD_NOT_ALLOWED,
                    405,
                    f"GraphQL is served over GET and POST, not {request.method}",
                ),
                allow="GET, POST",
            )
        try:
            return super().dispatch(request, *args, **kwargs)
        except APIError as exc:
            return refusal(exc, allow="POST" if exc.status == 405 else None)

    def parse_body(self, request) -> dict:
        """Return the operation of a POST's JSON body; {} for GET.

        A POST must be ``application/json`` (415 otherwise): a form or
        ``text/plain`` body is what a page of another site can send with
        the user's cookies and no CORS preflight. Raise APIError (400, 413)
        for a body that is not one operation (``read_operation``).
        """
        if request.method != "POST":
            return {}
        content_type = self.get_content_type(request)
        if content_type != "application/json":
            sent = f'"{content_type}"' if content_type else "no Content-Type"
            raise APIError(
                UNSUPPORTED_MEDIA_TYPE,
                415,
                "A GraphQL POST must be JSON (Content-Type: application/json), "
                f"not {sent}",
            )
        try:
            raw = request.body
        except RequestDataTooBig:
            raise APIError(PAYLOAD_TOO_LARGE, 413, "The body is too large") from None
        query, variables, operation_name = read_operation(raw)
        return {"query": query, "variables": variables, "operationName": operation_name}

    def get_graphql_params(self, request, data):
        """Return (query, variables, operationName, None): a POST's from its
        body only, a GET's from the query string (``variables`` as JSON).

        Raise a 400 APIError when a part is missing, malformed or mistyped.
        """
        if request.method == "POST":
            return data["query"], data["variables"], data["operationName"], None
        params = request.GET
        variables = params.get("variables") or None
        if variables is not None:
            variables = read_json(variables, 'The "variables" parameter')
        name = params.get("operationName") or None
        query, variables, name = _operation(
            params.get("query"),
            variables,
            {"operationName": None if name == "null" else name},
            BAD_REQUEST,
        )
        return query, variables, name, None

    def get_response(self, request, data, show_graphiql=False):
        """Answer as ``answer_of`` does: the status computed once, from the
        formatted errors (401 bad credentials, 503 database down)."""
        query, variables, operation_name, _ = self.get_graphql_params(request, data)
        result = self.execute_graphql_request(
            request, data, query, variables, operation_name, show_graphiql
        )
        if getattr(request, MUTATION_ERRORS_FLAG, False) is True:
            set_rollback()
        if not result:
            return None, 200
        if result.errors:
            set_rollback()
        status, answer = answer_of(result)
        return self.json_encode(request, answer, pretty=show_graphiql), status

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
            raise bad_request(BAD_REQUEST, 'The request has no "query"')
        if len(query) > self.max_query_size:
            raise APIError(
                PAYLOAD_TOO_LARGE,
                413,
                f"The query is longer than {self.max_query_size} characters",
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
            raise APIError(
                METHOD_NOT_ALLOWED,
                405,
                f"Can only perform a {operation.operation.value} operation "
                "from a POST request.",
            )
        try:
            return run_document(
                self.schema,
                parsed,
                variables,
                operation_name,
                root_value=self.get_root_value(request),
                context_value=self.get_context(request),
                middleware=self.get_middleware(request),
            )
        except Exception as exc:
            return ExecutionResult(errors=[exc])


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
    # No CSRF token: a POST must be JSON (``parse_body``), which no page of
    # another site can send without a CORS preflight.
    api = csrf_exempt(view(graphiql=False, **common))
    ide = csrf_exempt(view(graphiql=True, **common))
    return [
        re_path(r"^graphql/?$", api, name="graphql"),
        re_path(r"^graphiql/?$", ide, name="graphiql"),
    ]
