"""The platform's Django app: fills the service registry when Django is ready."""

from __future__ import annotations

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.db.models.signals import post_migrate


class PlatformCoreConfig(AppConfig):
    """Register every configured service once the app registry is ready."""

    name = "platform_core"
    verbose_name = "Joule platform"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Fill the registries, plug the higher layers into the lower ones."""
        from platform_core import checks
        from platform_core.config import get_config
        from platform_core.kinds import register_builtin_kinds
        from platform_core.registry import services

        register_builtin_kinds()
        config = get_config()
        services.clear()
        for spec in config.services:
            services.register(spec, entrypoint=spec.id == config.entrypoint)
        post_migrate.connect(apply_sql_migrations, sender=self)
        plug_in_hooks()
        connect_forgetting()
        connect_event_handlers()
        checks.register_checks()


def plug_in_hooks() -> None:
    """Give lower layers what higher ones provide: rules, the mesh, lookups."""
    from platform_core import mesh
    from platform_core.authorization.hooks import rule_hooks_for
    from platform_core.authorization.ldap import connect_ldap_claims
    from platform_core.authorization.tokens import use_internal_client
    from platform_core.entities import set_hooks_provider
    from platform_core.entities.errors import database_error
    from platform_core.entities.lookups import register_lookups
    from platform_core.exceptions import set_database_error_translator

    register_lookups()
    set_hooks_provider(rule_hooks_for)
    set_database_error_translator(database_error)
    use_internal_client(mesh.client)
    connect_ldap_claims()


def connect_forgetting() -> None:
    """Drop what was built from a service's tables when they change."""
    from platform_core.admin import forget_entities
    from platform_core.db.catalog import forget_schema, schema_forgotten
    from platform_core.db.migrator import tables_changed
    from platform_core.gateway.compose import forget_composition
    from platform_core.gateway.routing.urlconfs import forget_urlconfs

    tables_changed.connect(forget_schema, dispatch_uid="joule.forget_schema")
    schema_forgotten.connect(forget_urlconfs)
    schema_forgotten.connect(forget_entities)
    schema_forgotten.connect(forget_composition)


def connect_event_handlers() -> None:
    """Send every entity event to the channel layer and the webhooks (once)."""
    from platform_core.events import events
    from platform_core.events.layer import publisher
    from platform_core.events.webhooks import webhooks

    for handler in (publisher, webhooks):
        if not events.is_registered("*", handler):
            events.register("*", handler)


def apply_sql_migrations(sender, using: str = "default", **kwargs) -> None:
    """After Django's migrate on ``using``, apply the db services' SQL migrations.

    ``manage.py migrate`` and test database creation then leave every table
    in place.
    """
    from platform_core.db.migrator import apply_all

    apply_all(using)


class JouleAdminConfig(AdminConfig):
    """Django's admin with the site that adds db service entities."""

    default_site = "platform_core.admin.JouleAdminSite"
