"""GraphQL endpoints of a db service: ``/<prefix>/graphql`` and ``/graphiql``.

POST JSON (queries and mutations) or GET (queries only); validation errors
answer 400 with ``errors``, resolver errors carry ``extensions.code``::

    patterns = graphql_patterns(entities, options)
"""

from __future__ import annotations

from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt
from graphene_django.views import GraphQLView

from platform_core.entities import Entities
from platform_core.graphql.schema import build_schema
from platform_core.kinds.db import DbOptions


def graphql_patterns(entities: Entities, options: DbOptions) -> list:
    """Return the GraphQL and GraphiQL routes of a service."""
    schema = build_schema(entities, options)
    # Token-authenticated API: CSRF protects cookie-based form posts only.
    api = csrf_exempt(GraphQLView.as_view(schema=schema, graphiql=False))
    ide = csrf_exempt(GraphQLView.as_view(schema=schema, graphiql=True))
    return [
        re_path(r"^graphql/?$", api, name="graphql"),
        re_path(r"^graphiql/?$", ide, name="graphiql"),
    ]
