"""``entities("products")``: the entities of a db service, by entity name.

products = entities("products")
products["product"].find(limit=10)
products.by_plural("products")

Rules plug in from above: ``set_hooks_provider(rule_hooks_for)`` at start-up
gives each db service its ``EntityHooks``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from platform_core.db.catalog import get_schema
from platform_core.entities.entity import Entity, EntityHooks
from platform_core.exceptions import NotRegistered, did_you_mean
from platform_core.introspection import Schema
from platform_core.registry import services

__all__ = [
    "Entities",
    "Entity",
    "EntityHooks",
    "entities",
    "hooks_for",
    "set_hooks_provider",
]

_provider: list[Callable[[Any], EntityHooks | None]] = []


class Entities:
    """The entities of one service."""

    def __init__(self, schema: Schema, hooks: EntityHooks | None = None) -> None:
        self.schema = schema
        self._entities = {
            name: Entity(schema, info, hooks) for name, info in schema.entities.items()
        }

    def __getitem__(self, name: str) -> Entity:
        try:
            return self._entities[name]
        except KeyError:
            raise NotRegistered(
                f"No entity '{name}' in service '{self.schema.service}'. Entities: "
                f"{', '.join(self._entities) or 'none'}."
                + did_you_mean(name, self._entities)
            ) from None

    def __iter__(self):
        return iter(self._entities.values())

    def by_name(self, name: str) -> Entity | None:
        """Return the entity called ``name``, or None."""
        return self._entities.get(name)

    def by_plural(self, plural: str) -> Entity | None:
        """Return the entity whose plural is ``plural``, or None."""
        return next(
            (e for e in self._entities.values() if e.info.plural == plural), None
        )


def entities(service_id: str, hooks: EntityHooks | None = None) -> Entities:
    """Return the entities of db service ``service_id``.

    Its authorization rules apply when a call is given a request (or made
    while one is served); ``hooks`` replaces them.
    """
    spec = services.get(service_id)
    if spec.kind != "db":
        raise NotRegistered(
            f"'{service_id}' is a {spec.kind} service; only db services have entities"
        )
    if hooks is None:
        hooks = hooks_for(spec)
    return Entities(get_schema(spec), hooks)


def set_hooks_provider(provider: Callable[[Any], EntityHooks | None] | None) -> None:
    """Use ``provider(spec)`` for every db service's hooks (None: no hooks).

    The authorization layer sets it at start-up; entities never import it.
    """
    _provider[:] = [provider] if provider is not None else []


def hooks_for(spec: Any) -> EntityHooks | None:
    """Return the hooks of db service ``spec``, or None when nothing applies."""
    return _provider[0](spec) if _provider else None
