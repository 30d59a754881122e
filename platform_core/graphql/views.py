"""GraphQL endpoints of a db service: ``/<prefix>/graphql`` and ``/graphiql``.

POST JSON (queries and mutations) or GET (queries only); validation errors
answer 400 with ``errors``, resolver errors carry ``extensions.code``::

    patterns = graphql_patterns(entities, options)
"""

from __future__ import annotations

from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt
from graphene_django.constants import MUTATION_ERRORS_FLAG
from graphene_django.utils.utils import set_rollback
from graphene_django.views import GraphQLView, HttpError
from graphql import ExecutionResult, OperationType, get_operation_ast

from platform_core.config import get_config
from platform_core.config.services import DbOptions
from platform_core.entities import Entities
from platform_core.graphql.documents import documents
from platform_core.graphql.execution import answer_of, format_error, run_document
from platform_core.graphql.limits import validation_rules
from platform_core.graphql.root import build_schema


class LimitedGraphQLView(GraphQLView):
    """graphene-django's view with the platform's limits on documents."""

    max_query_size = 20_000
    format_error = staticmethod(format_error)

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

    def __init__(self, max_query_size: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if max_query_size is not None:
            self.max_query_size = max_query_size

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
    # Token-authenticated API: CSRF protects cookie-based form posts only.
    api = csrf_exempt(view(graphiql=False, **common))
    ide = csrf_exempt(view(graphiql=True, **common))
    return [
        re_path(r"^graphql/?$", api, name="graphql"),
        re_path(r"^graphiql/?$", ide, name="graphiql"),
    ]
