"""Django admin for every entity of every db service, registered on first use.

``JouleAdminSite`` registers the entities when the admin's URLs are first
built (the database is reachable then, unlike at app loading)::

    list_display   the first columns
    search_fields  the text columns
    list_filter    the foreign keys
"""

from __future__ import annotations

import logging

from django.apps import apps as django_apps
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Q

from platform_core import admin_keys
from platform_core.entities import Entities, Entity
from platform_core.exceptions import APIError
from platform_core.models import AuthorizationRule, IdempotentRequest, UserClaims

logger = logging.getLogger("joule.admin")
_TEXT = {"CharField", "TextField"}


class EntityAdmin(admin.ModelAdmin):
    """Admin of a db service entity: writes publish the entity's events.

    ``entity`` is the Entity whose ``<service>.<entity>.saved|deleted``
    events an edit publishes, as the same write through the API would.
    """

    entity: Entity = None

    # Rules: a user who is not a superuser sees and changes only the rows the
    # service's rules give the roles of their groups (session identity).

    def _ruled(self, request) -> bool:
        return not request.user.is_superuser and hasattr(self.entity.hooks, "rule")

    def _allows(self, request, operation: str) -> bool:
        try:
            self.entity.hooks.rule(self.entity.info, operation, request)
        except APIError:
            return False
        return True

    def has_view_permission(self, request, obj=None):
        """Let the rules decide for users who are not superusers."""
        if self._ruled(request):
            return self._allows(request, "find")
        return super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        """Let the rules decide for users who are not superusers."""
        if self._ruled(request):
            return self._allows(request, "save")
        return super().has_change_permission(request, obj)

    def has_add_permission(self, request):
        """Let the rules decide for users who are not superusers."""
        if self._ruled(request):
            return self._allows(request, "save")
        return super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        """Let the rules decide for users who are not superusers."""
        if self._ruled(request):
            return self._allows(request, "delete")
        return super().has_delete_permission(request, obj)

    def has_module_permission(self, request):
        """Show the service's entities to users the rules let read them."""
        if self._ruled(request):
            return self._allows(request, "find")
        return super().has_module_permission(request)

    def get_queryset(self, request):
        """Return the rows the user may see (every row for a superuser)."""
        rows = super().get_queryset(request)
        if not self._ruled(request):
            return rows
        try:
            return rows.filter(
                self.entity.hooks.scope(self.entity.info, "find", request)
            )
        except APIError:
            return rows.none()

    def _within(self, request, operation: str, obj) -> None:
        """Refuse (and so roll back) a write outside the user's rule."""
        if not self._ruled(request):
            return
        try:
            allowed = self.entity.hooks.scope(self.entity.info, operation, request)
            self.entity._check_allowed(allowed, [Q(pk=obj.pk)])
        except APIError as exc:
            raise PermissionDenied(exc.message) from None

    def _publish(self, kind: str, objects) -> None:
        fields = self.entity.info.fields
        rows = []
        for obj in objects:
            key = {
                k: getattr(obj, fields[k].attname) for k in self.entity.info.primary_key
            }
            rows.append(self.entity.row_of(obj) or key)
        self.entity.announce(kind, rows)

    def get_changeform_initial_data(self, request):
        """Leave the columns the database fills empty on the add form."""
        initial = super().get_changeform_initial_data(request)
        for field in self.model._meta.concrete_fields:
            if field.has_db_default() and field.name not in initial:
                initial[field.name] = ""
        return initial

    def save_model(self, request, obj, form, change):
        """Save, then publish ``saved`` with the stored row.

        A new row's empty NOT NULL column with a database default (a key
        ``DEFAULT gen_random_uuid()``) takes that default.
        """
        if not change:
            for field in self.model._meta.concrete_fields:
                empty = getattr(obj, field.attname, None) is None
                if empty and field.has_db_default() and not field.null:
                    setattr(obj, field.attname, field.get_default())
        super().save_model(request, obj, form, change)
        self._within(request, "save", obj)
        self._publish("saved", [obj])

    def delete_model(self, request, obj):
        """Publish ``deleted`` with the row, then delete it."""
        self._within(request, "delete", obj)
        self._publish("deleted", [obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        """Publish ``deleted`` for each row, then delete them."""
        for obj in queryset:
            self._within(request, "delete", obj)
        self._publish("deleted", list(queryset))
        super().delete_queryset(request, queryset)


def build_model_admin(entity: Entity) -> type[admin.ModelAdmin]:
    """Return a ModelAdmin class for an entity (read-only for views)."""
    info = entity.info
    fields = list(info.fields.values())
    # Keys of several columns have no Django ForeignKey: plain columns here.
    relations = {r.field for r in info.relations if len(r.fields) == 1}
    attrs = {
        "__module__": info.model.__module__,
        "list_display": [
            f.attname.removesuffix("_id") if f.name in relations else f.attname
            for f in fields[:8]
        ],
        "search_fields": [f.attname for f in fields if f.field_type in _TEXT],
        "list_filter": [
            f.attname.removesuffix("_id") for f in fields if f.name in relations
        ],
        "raw_id_fields": [
            f.attname.removesuffix("_id") for f in fields if f.name in relations
        ],
        "list_per_page": 50,
        "entity": entity,
    }
    if not info.writable:
        for action in ("add", "change", "delete"):
            attrs[f"has_{action}_permission"] = lambda self, request, obj=None: False
    name = f"{info.model.__name__}Admin"
    bases = (EntityAdmin,)
    if len(info.primary_key) > 1:
        bases = (admin_keys.CompositeKeyAdmin, EntityAdmin)
    return type(name, bases, {"__qualname__": name, **attrs})


def register_entities(site: admin.AdminSite) -> None:
    """Register every db service entity on ``site``."""
    from platform_core.db.catalog import get_schema
    from platform_core.entities import hooks_for
    from platform_core.registry import services

    for spec in services:
        if spec.kind != "db" or not django_apps.is_installed(spec.module):
            continue  # a service registered at run time (tests) has no app
        try:
            schema = get_schema(spec)
        except Exception:  # a database that is down must not break the admin
            logger.exception("%s: entities not added to the admin", spec.id)
            continue
        for entity in Entities(schema, hooks_for(spec)):
            info = entity.info
            if site.is_registered(info.model):
                continue
            if len(info.primary_key) > 1:
                admin_keys.register(site, info.model, build_model_admin(entity))
            else:
                site.register(info.model, build_model_admin(entity))


def forget_entities(sender=None, service_id: str = "", **kwargs) -> None:
    """Unregister the models of a service whose schema was dropped."""
    from platform_core.naming import app_label

    label = app_label(service_id)
    for model in [m for m in admin.site._registry if m._meta.app_label == label]:
        admin.site.unregister(model)


class JouleAdminSite(admin.AdminSite):
    """The admin site, with db service entities added when URLs are built."""

    site_header = "Joule admin"
    site_title = "Joule admin"

    def get_urls(self):
        """Register the entities, then build the URLs."""
        register_entities(self)
        return super().get_urls()


@admin.register(AuthorizationRule)
class AuthorizationRuleAdmin(admin.ModelAdmin):
    """Rules of db services, checked on save, live on the next request."""

    list_display = ("service", "position", "role", "entities", "updated_at")
    list_filter = ("service", "role")
    ordering = ("service", "position", "id")


@admin.register(UserClaims)
class UserClaimsAdmin(admin.ModelAdmin):
    """Claims of session users (e.g. their workspace)."""

    list_display = ("user", "claims")
    raw_id_fields = ("user",)


@admin.register(IdempotentRequest)
class IdempotentRequestAdmin(admin.ModelAdmin):
    """Answers kept for retried POSTs (Idempotency-Key); read-only."""

    list_display = ("service", "key", "status", "claimed_at", "expires_at")
    list_filter = ("service", "status")
    search_fields = ("key",)
    exclude = ("body",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
