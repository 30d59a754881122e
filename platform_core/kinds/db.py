"""The ``db`` kind: a database service whose API is generated from tables.

Only the configuration is read here; migrations, introspection and the
generated API plug into this kind::

    kind = "db"
    [db]
    connection = "{DATABASE_URL}"   # default: the platform database
    autoApply = true
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from platform_core.authorization.rules import AuthorizationOptions, read_authorization
from platform_core.config.reader import TableReader
from platform_core.events.webhooks import Webhook
from platform_core.exceptions import ConfigError, did_you_mean
from platform_core.kinds.base import Kind


@dataclass(frozen=True)
class DbOptions:
    """``[db]`` of a db service's service.toml."""

    # connection: a database URL; None means the platform database.
    connection: str | None = None
    # autoApply: apply migrations/NNN.do.sql at start.
    auto_apply: bool = True
    # limit: default and maximum page size of generated lists.
    limit_default: int = 10
    limit_max: int = 100
    # events: publish <service>.<entity>.saved|deleted on every write.
    events: bool = True
    # webhooks: [[webhooks]] entries; each event is POSTed to the matching ones.
    webhooks: tuple[Webhook, ...] = ()
    # authorization: [authorization] (identity and rules); None means open.
    authorization: AuthorizationOptions | None = None


def _webhook(table: TableReader) -> Webhook:
    """Read one ``[[webhooks]]`` table."""
    events = table.get("events", list, ["saved", "deleted"])
    webhook = Webhook(
        entity=table.get("entity", str),
        url=table.get("url", str),
        events=tuple(events),
        secret=table.get("secret", str, None),
        retries=table.get("retries", int, 5),
        backoff=float(table.get("backoff", (int, float), 0.5)),
        timeout=float(table.get("timeout", (int, float), 5.0)),
    )
    table.finish()
    if not webhook.url.startswith(("http://", "https://")):
        raise ConfigError(
            f"{table.where('url')}: {webhook.url!r} must start with http:// or https://"
        )
    unknown = [e for e in events if e not in ("saved", "deleted")]
    if unknown or not events:
        raise ConfigError(
            f'{table.where("events")}: {events!r} must list "saved" and/or "deleted"'
        )
    if webhook.retries < 0 or webhook.backoff < 0 or webhook.timeout <= 0:
        raise ConfigError(
            f"{table.where('retries')}: retries and backoff must be 0 or more "
            f"and timeout more than 0"
        )
    return webhook


class DbKind(Kind):
    """Tables from SQL migrations or an existing database."""

    name = "db"
    description = "database first: REST, GraphQL and admin from tables"

    def read_options(self, reader: TableReader, service_id: str) -> DbOptions:
        """Read the ``[db]`` table."""
        db = reader.table("db")
        limit = db.table("limit")
        options = DbOptions(
            connection=db.get("connection", str, None),
            auto_apply=db.get("autoApply", bool, True),
            limit_default=limit.get("default", int, 10),
            limit_max=limit.get("max", int, 100),
            events=db.get("events", bool, True),
            webhooks=tuple(_webhook(t) for t in reader.tables("webhooks")),
            authorization=read_authorization(reader),
        )
        limit.finish()
        db.finish()
        if not 0 < options.limit_default <= options.limit_max:
            raise ConfigError(
                f"{limit.where('default')}: must be between 1 and "
                f"limit.max ({options.limit_max})"
            )
        return options

    def urlpatterns(self, spec) -> list:
        """Return the service's own urls.py patterns, then the generated API."""
        from platform_core.authorization.rules import check_rules
        from platform_core.db.schema import get_schema
        from platform_core.entities import Entities
        from platform_core.graphql.views import graphql_patterns
        from platform_core.rest.routes import docs_patterns, entity_patterns

        entities = Entities(get_schema(spec), self.entity_hooks(spec))
        if spec.options.authorization is not None:
            check_rules(
                spec.options.authorization,
                {e.info.entity: e.info for e in entities},
                spec.id,
            )
        for number, hook in enumerate(spec.options.webhooks):
            if hook.entity != "*" and entities.by_name(hook.entity) is None:
                raise ConfigError(
                    f"{spec.source}: webhooks[{number}].entity: no entity "
                    f"'{hook.entity}' in service '{spec.id}'."
                    + did_you_mean(hook.entity, [e.info.entity for e in entities])
                )
        generated = entity_patterns(entities, spec.options)
        return [
            *super().urlpatterns(spec),
            *generated,
            *docs_patterns(spec, generated),
            *graphql_patterns(entities, spec.options),
        ]

    def entity_hooks(self, spec) -> Any:
        """Return the service's authorization hooks (None when it is open).

        One object per service, so identities cached per options hold.
        """
        options = spec.options.authorization
        if options is None:
            return None
        from platform_core.authorization.hooks import RuleHooks

        if (spec.id, options) not in _hooks:
            _hooks[spec.id, options] = RuleHooks(options, spec.id)
        return _hooks[spec.id, options]

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
        """Report whether the database answers and every migration is applied."""
        from django.db import connections

        from platform_core.db.connections import alias_for
        from platform_core.db.migrator import Migrator

        try:
            connections[alias_for(spec)].ensure_connection()
            pending = Migrator(spec).pending()
        except Exception as exc:  # any driver error means "not ready"
            return False, f"database unavailable: {exc.__class__.__name__}"
        if pending:
            return False, f"{len(pending)} migration(s) not applied: run dbmigrate"
        return True, "ok"


_hooks: dict = {}


def graphql_schema_of(spec) -> Any:
    """Return the graphene schema the service's ``/graphql`` route serves.

    It is the one of the service's current URLconf, built on first use and
    rebuilt when the service's tables change.
    """
    from platform_core.gateway.routing import urlconf_for

    for pattern in urlconf_for(spec).urlpatterns:
        if getattr(pattern, "name", None) == "graphql":
            return pattern.callback.view_initkwargs["schema"]
    raise LookupError(f"{spec.id}: no GraphQL route")
