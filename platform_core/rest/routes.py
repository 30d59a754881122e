"""URL patterns of a db service's REST API, one set per entity.

Generated view classes get the names a human would write
(``PostCollectionView``); every route answers with and without a trailing
slash::

    /posts  /posts/{id}  /posts/{id}/owner  /owners/{id}/posts
    /postsCategories/post/{post}/category/{category}
"""

from __future__ import annotations

import logging

from django.urls import re_path

from platform_core import naming
from platform_core.config.services import DbOptions
from platform_core.entities import Entities
from platform_core.rest.relations import children_get, parent_get
from platform_core.rest.views import (
    CollectionView,
    ItemView,
    RelationView,
    ReverseRelationView,
)

logger = logging.getLogger("joule.rest")
_SEGMENT = r"(?P<{}>[^/]+)"


def _view(base: type, entity, name: str, **attrs):
    cls = type(
        name,
        (base,),
        {
            "__module__": base.__module__,
            "__qualname__": name,
            "entity": entity,
            **attrs,
        },
    )
    return cls.as_view()


def _route(pattern: str, view, name: str):
    return re_path(rf"^{pattern}/?$", view, name=name)


def entity_patterns(entities: Entities, options: DbOptions) -> list:
    """Return the REST patterns of every entity."""
    patterns = []
    for entity in entities:
        patterns.extend(_patterns(entities, entity, options))
    return patterns


def _patterns(entities: Entities, entity, options: DbOptions) -> list:
    info = entity.info
    name = naming.pascal(info.entity)
    plural = info.plural
    patterns = [
        _route(
            plural,
            _view(CollectionView, entity, f"{name}CollectionView", db_options=options),
            f"{plural}-list",
        )
    ]
    if not info.primary_key:
        return patterns
    if len(info.primary_key) > 1:
        item = f"{plural}/" + "/".join(
            f"{label}/{_SEGMENT.format(field)}" for label, field in info.key_segments()
        )
    else:
        item = f"{plural}/{_SEGMENT.format(info.primary_key[0])}"
    patterns.append(
        _route(
            item,
            _view(ItemView, entity, f"{name}ItemView", db_options=options),
            f"{plural}-item",
        )
    )
    taken: set[str] = set()
    links = [(RelationView, parent_get, r) for r in info.relations]
    links += [(ReverseRelationView, children_get, r) for r in info.reverse]
    for view_class, get, relation in links:
        if relation.name in taken:  # a relation and a child list share a name
            logger.warning(
                "%s: %s.%s is both a relation and a child list; only "
                "the relation is routed",
                entities.schema.service,
                plural,
                relation.name,
            )
            continue
        taken.add(relation.name)
        view = _view(
            view_class,
            entities[relation.entity],
            f"{name}{naming.pascal(relation.name)}View",
            db_options=options,
            parent=entity,
            relation=relation,
            get=get,
        )
        patterns.append(
            _route(f"{item}/{relation.name}", view, f"{plural}-{relation.name}")
        )
    return patterns


def docs_patterns(spec, generated: list) -> list:
    """Return ``openapi.json`` (over ``generated``) and ``docs`` (Swagger UI)."""
    from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

    settings = {
        "TITLE": f"{spec.id} API",
        "SERVERS": [{"url": spec.prefix}],
        "DESCRIPTION": f"REST API generated from the tables of '{spec.id}'.",
    }
    schema_view = SpectacularJSONAPIView.as_view(
        patterns=generated, custom_settings=settings
    )
    return [
        re_path(r"^openapi\.json$", schema_view, name="openapi"),
        re_path(
            r"^docs/?$",
            SpectacularSwaggerView.as_view(url=f"{spec.prefix}/openapi.json"),
            name="docs",
        ),
    ]
