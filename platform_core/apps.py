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
        """Fill ``registry.services`` from the platform configuration."""
        from platform_core.config import get_config
        from platform_core.registry import services

        config = get_config()
        services.clear()
        for spec in config.services:
            services.register(spec, entrypoint=spec.id == config.entrypoint)
        post_migrate.connect(apply_sql_migrations, sender=self)
        from platform_core.admin import forget_entities
        from platform_core.db.schema import schema_forgotten
        from platform_core.entities.lookups import register_lookups
        from platform_core.gateway.compose import forget_composition
        from platform_core.gateway.routing import forget_urlconfs

        register_lookups()
        schema_forgotten.connect(forget_urlconfs)
        schema_forgotten.connect(forget_entities)
        schema_forgotten.connect(forget_composition)
        connect_event_handlers()
        from platform_core.authorization.ldap import connect_ldap_claims

        connect_ldap_claims()


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
