"""Build unmanaged Django models and the service schema from table descriptions.

Models look hand-written: ``orders`` becomes ``class Order`` in the
service's module, fields named as the API names them::

    schema = build_schema(spec, alias, tables)
    schema.entities["order"].model.objects.using(alias).count()
"""

from __future__ import annotations

import datetime
import decimal
import keyword

from django.apps import apps
from django.db import connections, models
from django.utils import timezone

from platform_core import naming
from platform_core.config.types import ServiceSpec
from platform_core.db.tables import Column, Table
from platform_core.fieldtypes import fieldtypes
from platform_core.introspection import (
    FieldInfo,
    ModelInfo,
    Relation,
    ReverseRelation,
    Schema,
)

# Model names built per app label, forgotten before the next build.
_built: dict[str, set[str]] = {}


class NumericField(models.DecimalField):
    """NUMERIC with no declared precision: each value keeps its own scale."""

    def __init__(self, *args, **kwargs):
        kwargs.update(max_digits=65, decimal_places=20)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        """Drop the padding zeros of the fixed scale (1.50000 -> 1.5)."""
        if value is None:
            return value
        return decimal.Decimal(format(value.normalize(), "f"))


class AwareDateTimeField(models.DateTimeField):
    """A date-time that always reads back aware (UTC for naive columns).

    PostgreSQL TIMESTAMP WITHOUT TIME ZONE columns return naive values,
    which the platform (USE_TZ) could not compare or serialize with others.
    """

    def from_db_value(self, value, expression, connection):
        """Return ``value`` with UTC attached when the database gave none."""
        if value is not None and timezone.is_naive(value):
            return timezone.make_aware(value, datetime.UTC)
        return value


class InsertWithoutReturning:
    """Insert without RETURNING, then read the new row back by its key.

    PostgreSQL refuses ``INSERT ... RETURNING`` on a table with INSTEAD
    rules (Sakila's ``payment``, split into monthly tables); a generated key
    is then the value the key's sequence gave last in this session.
    """

    def _do_insert(self, manager, using, fields, returning_fields, raw):
        """Insert ``self``; return the returning fields' values of the new row."""
        manager._insert(
            [self], fields=fields, returning_fields=None, using=using, raw=raw
        )
        if not returning_fields:
            return []
        pk = self._meta.pk
        key = getattr(self, pk.attname)
        if key is None or hasattr(key, "resolve_expression"):
            with connections[using].cursor() as cursor:
                # The sequence of the key's DEFAULT nextval(...), owned by the
                # column or not (Sakila's are not).
                cursor.execute("SELECT lastval()")
                key = cursor.fetchone()[0]
        rows = manager.using(using).filter(pk=key)
        return list(rows.values_list(*(f.attname for f in returning_fields)))[:1]


# Names a column may not take as a model attribute.
_TAKEN = set(dir(models.Model)) | {"pk", "objects", "id_"}


def _attr(name: str, used: set[str]) -> str:
    attr = name if name.isidentifier() and not keyword.iskeyword(name) else "f_" + name
    while attr in _TAKEN or attr in used:
        attr += "_"
    used.add(attr)
    return attr


def _field(column: Column, primary: bool) -> models.Field:
    kwargs = {
        "db_column": column.name,
        "null": column.null and not primary,
        "blank": column.null or column.has_default or column.auto,
    }
    if primary:
        kwargs["primary_key"] = True
    if column.generated and not column.auto:
        # Inserts write DEFAULT, the only value such a column takes.
        kwargs["db_default"] = models.expressions.RawSQL("NULL", ())
    elif column.has_default and not column.auto:
        # A key too (uuid DEFAULT gen_random_uuid()): an insert without it
        # writes DEFAULT and reads the generated key back.
        kwargs["db_default"] = models.expressions.RawSQL(column.default, ())
    if column.field_type == "ArrayField":
        from django.contrib.postgres.fields import ArrayField

        return ArrayField(_base_field(column.array_of), **kwargs)
    if column.field_type == "CharField" and not column.max_length:
        return models.TextField(**kwargs)
    cls = fieldtypes.field_class(column.field_type) or models.TextField
    if column.field_type == "CharField":
        kwargs["max_length"] = column.max_length
    if column.field_type == "DateTimeField":
        return AwareDateTimeField(**kwargs)
    if column.field_type == "DecimalField":
        if column.max_digits is None:
            return NumericField(**kwargs)
        kwargs.update(
            max_digits=column.max_digits, decimal_places=column.decimal_places
        )
    return cls(**kwargs)


def _base_field(field_type: str | None) -> models.Field:
    if field_type == "DecimalField":
        return models.DecimalField(max_digits=65, decimal_places=30)
    if field_type == "CharField":
        return models.TextField()
    return (fieldtypes.field_class(field_type or "TextField") or models.TextField)()


def _build_model(
    spec: ServiceSpec, table: Table, tables: dict[str, Table], names: dict[str, str]
) -> tuple[type[models.Model], ModelInfo]:
    entity = names[table.name]
    used: set[str] = set()
    attrs: dict = {}
    fields: dict[str, FieldInfo] = {}
    relations = []
    keys = {fk.column: fk for fk in table.foreign_keys if fk.to_table in tables}
    pk = table.primary_key or (table.columns[0].name,)  # views: any column
    single_pk = len(pk) == 1
    for column in table.columns:
        api = naming.camel(column.name)
        primary = single_pk and column.name == pk[0]
        fk = keys.get(column.name)
        if fk is not None:
            rel = naming.relation_name(column.name)
            attr = _attr(rel if rel != api else rel + "Rel", used)
            attrs[attr] = models.ForeignKey(
                f"{spec.label}.{naming.pascal(names[fk.to_table])}",
                on_delete=models.DO_NOTHING,
                db_column=column.name,
                db_constraint=False,
                related_name="+",
                null=column.null,
                blank=column.null,
                primary_key=primary,
                to_field=_attr_of(tables[fk.to_table], fk.to_column),
            )
            attname = attr + "_id"
            relations.append(
                Relation(rel, api, names[fk.to_table], naming.camel(fk.to_column))
            )
        else:
            attr = attname = _attr(api, used)
            attrs[attr] = _field(column, primary)
        fields[api] = FieldInfo(
            api,
            attname,
            column.name,
            column.field_type,
            column.null,
            column.has_default,
            column.auto,
            column.name in table.primary_key,
            column.max_length,
            column.array_of,
            column.max_digits,
            column.decimal_places,
            column.default,
            column.generated,
        )
    relations.extend(_composite_relations(table, tables, names, fields, relations))
    if not single_pk:
        by_column = {f.column: f for f in fields.values()}
        attrs["pk"] = models.CompositePrimaryKey(
            *(
                by_column[c].attname.removesuffix("_id")
                if by_column[c].name in {r.field for r in relations}
                else by_column[c].attname
                for c in pk
            )
        )
    class_name = naming.pascal(entity)
    attrs["Meta"] = type(
        "Meta", (), {"managed": False, "db_table": table.name, "app_label": spec.label}
    )
    attrs["__module__"] = spec.module
    attrs["__qualname__"] = class_name
    bases = (
        (models.Model,) if table.returning else (InsertWithoutReturning, models.Model)
    )
    model = type(class_name, bases, attrs)
    _built.setdefault(spec.label, set()).add(model._meta.model_name)
    info = ModelInfo(
        entity,
        naming.plural_name(entity),
        table.name,
        model,
        fields,
        tuple(naming.camel(c) for c in table.primary_key),
        tuple(relations),
        view=table.view,
    )
    return model, info


def _composite_relations(
    table: Table,
    tables: dict[str, Table],
    names: dict[str, str],
    fields: dict[str, FieldInfo],
    relations: list[Relation],
) -> list[Relation]:
    """Return the relations of the foreign keys of several columns.

    Each is named after its last column (``(tenant_id, order_id)`` ->
    ``order``), or after the parent entity when that name is taken.
    """
    taken = {*fields, *(r.name for r in relations)}
    result = []
    for key in table.composite_keys:
        if key.to_table not in tables:
            continue
        entity = names[key.to_table]
        name = naming.relation_name(key.columns[-1])
        for candidate in (name, entity, entity + "Rel"):
            if candidate not in taken:
                name = candidate
                break
        taken.add(name)
        own = tuple(naming.camel(c) for c in key.columns)
        parent = tuple(naming.camel(c) for c in key.to_columns)
        result.append(Relation(name, own[0], entity, parent[0], own, parent))
    return result


def _attr_of(table: Table, column: str) -> str | None:
    """Return the to_field of a foreign key: None for the parent's primary key."""
    return None if table.primary_key == (column,) else naming.camel(column)


def _forget_built(label: str) -> None:
    """Drop the models an earlier build made for ``label``.

    A rebuilt schema must not resolve a foreign key to a stale parent model.
    """
    for name in _built.pop(label, ()):
        apps.all_models[label].pop(name, None)
    apps.clear_cache()


def build_schema(spec: ServiceSpec, alias: str, tables: list[Table]) -> Schema:
    """Return the schema of ``tables``: one unmanaged model per table."""
    _forget_built(spec.label)
    by_name = {table.name: table for table in tables}
    names = {table.name: naming.entity_name(table.name) for table in tables}
    entities = {}
    for table in tables:
        _, info = _build_model(spec, table, by_name, names)
        entities[info.entity] = info
    for info in entities.values():
        for relation in info.relations:
            entities[relation.entity].reverse.append(
                ReverseRelation(
                    info.plural,
                    info.entity,
                    relation.field,
                    relation.to_field,
                    relation.fields,
                    relation.to_fields,
                )
            )
    return Schema(spec.id, alias, entities)
