"""SQL lookups the generated API needs and Django lacks: like, ilike, any, all.

Registered once from ``PlatformCoreConfig.ready()``::

    register_lookups()
    Model.objects.filter(title__like="Dog%")       # title LIKE 'Dog%'
    Model.objects.filter(tags__any="red")          # 'red' = ANY(tags)
"""

from __future__ import annotations

from django.db import models
from django.db.models import Lookup


class Like(Lookup):
    """``field LIKE pattern``, with the client's own ``%`` and ``_``."""

    lookup_name = "like"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} LIKE {rhs}", [*lhs_params, *rhs_params]


class ILike(Lookup):
    """Case-insensitive LIKE: ILIKE on PostgreSQL, LOWER() LIKE LOWER() elsewhere."""

    lookup_name = "ilike"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs}::text ILIKE {rhs}", [*lhs_params, *rhs_params]
        return f"LOWER({lhs}) LIKE LOWER({rhs})", [*lhs_params, *rhs_params]


class ArrayAny(Lookup):
    """``value = ANY(array_field)`` (PostgreSQL)."""

    lookup_name = "any"
    template = "{rhs} = ANY({lhs})"

    def get_db_prep_lookup(self, value, connection):
        return "%s", [value]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return self.template.format(lhs=lhs, rhs=rhs), [*rhs_params, *lhs_params]


class ArrayAll(ArrayAny):
    """``value = ALL(array_field)`` (PostgreSQL)."""

    lookup_name = "all"
    template = "{rhs} = ALL({lhs})"


def register_lookups() -> None:
    """Register the lookups on every field; array ones on ArrayField."""
    models.Field.register_lookup(Like)
    models.Field.register_lookup(ILike)
    try:
        from django.contrib.postgres.fields import ArrayField
    except ImportError:  # psycopg missing: no arrays anyway
        return
    ArrayField.register_lookup(ArrayAny)
    ArrayField.register_lookup(ArrayAll)
