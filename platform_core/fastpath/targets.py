"""Which generated views the fast routes serve, and what they need to know of
each view class (kept per class: classes live as long as their URLconf).

A view serves the fast path for the methods of ``FAST_METHODS`` when no hook
of its entities scopes rows or forces values (authorization rules need
Django's full request)::

    fast_methods(ItemView subclass)    # ("GET",) or ()
"""

from __future__ import annotations

from django.db import connections

from platform_core.entities.entity import EntityHooks
from platform_core.rest.views import (
    CollectionView,
    EntityView,
    ItemView,
    RelationView,
    ReverseRelationView,
)

# Which methods of which generated views take the fast path.
FAST_METHODS = {
    CollectionView: ("GET", "POST"),
    ItemView: ("GET",),
    RelationView: ("GET",),
    ReverseRelationView: ("GET",),
}


_METHODS: dict[type, tuple[str, ...]] = {}
_SQLITE: dict[type, bool] = {}
_ALLOW: dict[type, bytes] = {}


def fast_methods(view_class: type | None) -> tuple[str, ...]:
    """Return the methods the fast path serves for ``view_class`` (maybe none)."""
    if view_class not in _METHODS:
        methods = next(
            (
                methods
                for base, methods in FAST_METHODS.items()
                if isinstance(view_class, type) and issubclass(view_class, base)
            ),
            (),
        )
        _METHODS[view_class] = methods if methods and unscoped(view_class) else ()
    return _METHODS[view_class]


def allow(view_class: type) -> bytes:
    """Return the Allow header DRF sends for ``view_class``."""
    if view_class not in _ALLOW:
        view = view_class()
        view.setup(None)  # as Django does: HEAD where there is GET
        _ALLOW[view_class] = ", ".join(view._allowed_methods()).encode()
    return _ALLOW[view_class]


def on_sqlite(view_class: type[EntityView]) -> bool:
    """True when the view's entity lives in an SQLite database."""
    if view_class not in _SQLITE:
        engine = connections.settings[view_class.entity.alias]["ENGINE"]
        _SQLITE[view_class] = engine.endswith("sqlite3")
    return _SQLITE[view_class]


def unscoped(view_class: type[EntityView]) -> bool:
    """True when no hook of the view's entities scopes rows or forces values."""
    entities = [view_class.entity, getattr(view_class, "parent", None)]
    return all(e is None or type(e.hooks) is EntityHooks for e in entities)
