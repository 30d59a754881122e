"""The ``db`` kind: a database service whose API is generated from tables.

Only the configuration is read here; migrations, introspection and the
generated API plug into this kind::

    kind = "db"
    [db]
    connection = "{DATABASE_URL}"   # default: the platform database
    autoApply = true
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from platform_core.config.services import read_db_options
from platform_core.exceptions import ConfigError, did_you_mean
from platform_core.registry import Kind


class DbKind(Kind):
    """Tables from SQL migrations or an existing database."""

    name = "db"
    description = "database first: REST, GraphQL and admin from tables"
    read_options = staticmethod(read_db_options)

    def urlpatterns(self, spec) -> list:
        """Return the service's own urls.py patterns, then the generated API."""
        from platform_core.authorization.rules import check_rules
        from platform_core.db.catalog import get_schema
        from platform_core.entities import Entities, hooks_for
        from platform_core.graphql.views import graphql_patterns
        from platform_core.rest.routes import docs_patterns, entity_patterns

        entities = Entities(get_schema(spec), hooks_for(spec))
        if spec.options.authorization is not None:
            check_rules(
                spec.options.authorization,
                {e.info.entity: e.info for e in entities},
                spec.id,
            )
        names = [e.info.entity for e in entities]
        unknown = next(unknown_webhook_entities(spec, names), None)
        if unknown is not None:
            raise ConfigError(unknown)
        generated = entity_patterns(entities, spec.options)
        return [
            *super().urlpatterns(spec),
            *generated,
            *docs_patterns(spec, generated),
            *graphql_patterns(entities, spec.options),
        ]

    def websocket_urlpatterns(self, spec) -> list:
        """Return the service's own websocket routes, then GraphQL over websockets."""
        from django.urls import re_path

        from platform_core.graphql.consumers import GraphQLTransportWSConsumer

        consumer = GraphQLTransportWSConsumer.as_asgi(
            schema=lambda: graphql_schema_of(spec)
        )
        return [
            *super().websocket_urlpatterns(spec),
            re_path(r"^graphql/?$", consumer, name="graphql-ws"),
        ]

    def links(self, spec) -> dict[str, str]:
        """Return the dashboard links: Swagger UI and the OpenAPI document."""
        return {
            "docs": f"{spec.prefix}/docs",
            "openapi": f"{spec.prefix}/openapi.json",
            "graphiql": f"{spec.prefix}/graphiql",
        }

    def check_ready(self, spec) -> tuple[bool, str]:
        """Report whether the database answers and every migration is applied.

        The database is asked (``SELECT 1``) on this thread's connection,
        which is dropped when it fails: the next check connects afresh, so
        readiness comes back with the database, without a restart.
        """
        from django.db import connections

        from platform_core.db.connections import alias_for
        from platform_core.db.migrator import Migrator

        connection = connections[alias_for(spec)]
        try:
            connection.close_if_unusable_or_obsolete()
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            pending = Migrator(spec).pending()
        except Exception as exc:  # any driver error means "not ready"
            with contextlib.suppress(Exception):
                connection.close()
            return False, f"database unavailable: {exc.__class__.__name__}"
        if pending:
            return False, f"{len(pending)} migration(s) not applied: run dbmigrate"
        return True, "ok"


def unknown_webhook_entities(spec, names: list[str]) -> Iterator[str]:
    """Yield a message for each ``[[webhooks]]`` entry naming none of ``names``.

    ``names`` are the service's entities; ``entity = "*"`` names them all.
    """
    for number, hook in enumerate(spec.options.webhooks):
        if hook.entity != "*" and hook.entity not in names:
            yield (
                f"{spec.source}: webhooks[{number}].entity: no entity "
                f"'{hook.entity}' in service '{spec.id}'."
                + did_you_mean(hook.entity, names)
            )


def graphql_schema_of(spec) -> Any:
    """Return the graphene schema the service's ``/graphql`` route serves.

    It is the one of the service's current URLconf, built on first use and
    rebuilt when the service's tables change.
    """
    from platform_core.gateway.routing.urlconfs import urlconf_for

    for pattern in urlconf_for(spec).urlpatterns:
        if getattr(pattern, "name", None) == "graphql":
            return pattern.callback.view_initkwargs["schema"]
    raise LookupError(f"{spec.id}: no GraphQL route")
