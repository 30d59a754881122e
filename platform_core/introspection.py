"""What an entity is: its fields, keys and relations, described once.

``db.models.build_schema`` fills these from tables; REST, GraphQL, admin
and the entities API read them and never look at the database again::

    info = schema.entities["post"]
    info.fields["ownerId"].attname      # "owner_id" (the ORM lookup)
    info.relations[0].name              # "owner"
    schema.entities["owner"].reverse[0].name   # "posts"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldInfo:
    """A column as the API names it."""

    name: str  # API name: camelCase of the column
    attname: str  # ORM attribute for lookups and values()
    column: str  # the database column
    field_type: str  # Django field class name
    null: bool
    has_default: bool  # the database fills it when omitted
    auto: bool  # autoincrement / identity
    primary_key: bool
    max_length: int | None = None
    array_of: str | None = None
    max_digits: int | None = None  # decimals: digits in all (None: unbounded)
    decimal_places: int | None = None
    default: str | None = None  # the column's default, as SQL
    generated: bool = False  # GENERATED ALWAYS: the database writes it, never a client

    def element(self) -> FieldInfo:
        """Return the field of one element of this array field."""
        return FieldInfo(
            self.name,
            self.attname,
            self.column,
            self.array_of or "TextField",
            null=True,
            has_default=False,
            auto=False,
            primary_key=False,
        )


def _pairs(relation) -> None:
    """Fill ``fields``/``to_fields`` of a single-column key from field/to_field."""
    if not relation.fields:
        object.__setattr__(relation, "fields", (relation.field,))
    if not relation.to_fields:
        object.__setattr__(relation, "to_fields", (relation.to_field,))


@dataclass(frozen=True)
class Relation:
    """A foreign key, seen from the child: ``post.owner``.

    A key of several columns lists them all in ``fields`` and ``to_fields``
    (in pairs); ``field`` and ``to_field`` are the first pair.
    """

    name: str  # "owner"
    field: str  # the child's API field: "ownerId"
    entity: str  # the parent entity: "owner"
    to_field: str  # the parent's API field: "id"
    fields: tuple[str, ...] = ()  # every child field: ("tenantId", "orderId")
    to_fields: tuple[str, ...] = ()  # the parent's fields: ("tenantId", "id")

    def __post_init__(self) -> None:
        _pairs(self)


@dataclass(frozen=True)
class ReverseRelation:
    """A foreign key, seen from the parent: ``owner.posts``."""

    name: str  # the child's plural: "posts"
    entity: str  # the child entity: "post"
    field: str  # the child's API field: "ownerId"
    to_field: str  # the parent's API field: "id"
    fields: tuple[str, ...] = ()  # as Relation.fields
    to_fields: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _pairs(self)


@dataclass
class ModelInfo:
    """One entity: its model, names, fields and relations."""

    entity: str
    plural: str
    table: str
    model: Any
    fields: dict[str, FieldInfo]
    primary_key: tuple[str, ...]
    relations: tuple[Relation, ...] = ()
    reverse: list[ReverseRelation] = field(default_factory=list)
    view: bool = False

    def key_segments(self) -> list[tuple[str, str]]:
        """Return (label, field) for each part of a composite key's URL.

        A key column that is a foreign key is labelled by the entity it
        points to (``postId`` -> ``post``), as Platformatic does:
        ``/postsCategories/post/1/category/2``.
        """
        targets = {
            relation.field: relation.entity
            for relation in self.relations
            if len(relation.fields) == 1
        }
        return [(targets.get(name, name), name) for name in self.primary_key]

    @property
    def writable(self) -> bool:
        """Return whether rows can be written (a table with a primary key)."""
        return not self.view and bool(self.primary_key)


@dataclass
class Schema:
    """The entities of one db service."""

    service: str
    alias: str
    entities: dict[str, ModelInfo]

    def by_plural(self, plural: str) -> ModelInfo | None:
        """Return the entity whose plural is ``plural``, or None."""
        return next((e for e in self.entities.values() if e.plural == plural), None)
