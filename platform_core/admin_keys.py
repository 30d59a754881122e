"""Django admin pages for entities whose primary key spans several columns.

Django's admin refuses such models (it quotes ``obj.pk`` into URLs, and a
composite ``pk`` is a tuple). Joule registers them anyway with
``CompositeKeyAdmin``, which names a row everywhere the admin does (links,
templates, log entries) by its key as a JSON array, such as ``[1,3]``, which
``CompositePrimaryKey.to_python`` reads back::

    /admin/orders/orderitem/_5B1_2C3_5D/change/   (the row [1,3])

Key columns are read-only once a row exists (changing one would write a new
row), and the list has no bulk actions: each row is deleted from its page.
"""

from __future__ import annotations

import json

from django.contrib import admin
from django.contrib.admin.utils import quote, unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.urls import reverse


def key_text(obj) -> str:
    """Return the text that names ``obj`` in admin URLs and log entries.

    Integers and strings stay as they are; other values (uuid, date) are
    written as their fields write them.
    """
    values = []
    for field in obj._meta.pk.fields:
        value = getattr(obj, field.attname)
        plain = type(value) in (int, str)
        values.append(value if plain else field.value_to_string(obj))
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False)


class KeyedRow:
    """A row seen by admin templates and log entries: ``pk`` is its key text."""

    def __init__(self, obj):
        self.__dict__["row"] = obj

    @property
    def pk(self) -> str:
        return key_text(self.row)

    def __getattr__(self, name):
        return getattr(self.row, name)

    def __str__(self) -> str:
        return str(self.row)


class KeyedChangeList(ChangeList):
    """The change list, linking each row by its key text."""

    def url_for_result(self, result):
        """Return the change page of ``result``."""
        opts = self.opts
        return reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change",
            args=(quote(key_text(result)),),
            current_app=self.model_admin.admin_site.name,
        )


class CompositeKeyAdmin(admin.ModelAdmin):
    """Admin of a model whose ``pk`` is a ``CompositePrimaryKey``."""

    actions = None

    def get_changelist(self, request, **kwargs):
        """Link rows by their key text."""
        return KeyedChangeList

    def get_object(self, request, object_id, from_field=None):
        """Return the row named by ``object_id`` (its key text), else None."""
        if from_field is not None:
            return super().get_object(request, object_id, from_field)
        try:
            key = self.opts.pk.to_python(object_id)
            return self.get_queryset(request).get(pk=key)
        except (self.model.DoesNotExist, ValidationError, ValueError, TypeError):
            return None

    def get_readonly_fields(self, request, obj=None):
        """Keep the key columns of a stored row as they are."""
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is None:
            return fields
        return fields + tuple(field.name for field in self.opts.pk.fields)

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        """Render the form with the row's key text in its links."""
        if context.get("original") is not None:
            context["original"] = KeyedRow(context["original"])
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    def render_delete_form(self, request, context):
        """Render the confirmation with the row's key text in its links."""
        context["object"] = KeyedRow(context["object"])
        return super().render_delete_form(request, context)

    def history_view(self, request, object_id, extra_context=None):
        """Render the history with the row's key text in its links."""
        obj = self.get_object(request, unquote(object_id))
        if obj is not None:
            extra_context = {**(extra_context or {}), "object": KeyedRow(obj)}
        return super().history_view(request, object_id, extra_context)

    def response_add(self, request, obj, post_url_continue=None):
        """Answer an addition, linking the new row by its key text."""
        return super().response_add(request, KeyedRow(obj), post_url_continue)

    def log_addition(self, request, obj, message):
        """Log the addition under the row's key text."""
        return super().log_addition(request, KeyedRow(obj), message)

    def log_change(self, request, obj, message):
        """Log the change under the row's key text."""
        return super().log_change(request, KeyedRow(obj), message)

    def log_deletions(self, request, queryset):
        """Log the deletions under the rows' key texts."""
        return super().log_deletions(request, [KeyedRow(obj) for obj in queryset])


def register(site: admin.AdminSite, model, admin_class) -> None:
    """Register a composite-key model, which ``AdminSite.register`` refuses."""
    site._registry[model] = admin_class(model, site)
