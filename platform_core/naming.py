"""Every name derived from a service id, in one place.

A service's id, its folder, its default prefix and its GraphQL namespace are
the same word; the Django app label is derived here and nowhere else::

    app_label("legacy-express")  # -> "legacy_express"
    default_prefix("orders")     # -> "/orders"
"""

from __future__ import annotations

import re

SERVICE_ID_RE = re.compile(r"^[a-z][a-z0-9-]*$")
# Segments of letters, digits and ._~- but never "." or ".." (clients resolve
# those away, so such a prefix could only be reached by raw requests).
PREFIX_RE = re.compile(r"^(/(?!\.\.?(?:/|$))[A-Za-z0-9._~-]+)+$")
MESH_HOST_SUFFIX = ".internal"


# Labels of the apps the platform installs: a service named like one (the
# e-commerce "auth" service) gets "<id>_service" instead.
TAKEN_LABELS = frozenset(
    {
        "auth",
        "contenttypes",
        "sessions",
        "messages",
        "staticfiles",
        "admin",
        "rest_framework",
        "drf_spectacular",
        "drf_spectacular_sidecar",
        "graphene_django",
        "channels",
        "guardian",
        "daphne",
        "platform_core",
    }
)


def app_label(service_id: str) -> str:
    """Return the Django app label of a service id (``auth`` -> ``auth_service``)."""
    label = service_id.replace("-", "_")
    return f"{label}_service" if label in TAKEN_LABELS else label


def default_prefix(service_id: str) -> str:
    """Return the URL prefix a service gets when its config names none."""
    return "/" + service_id


def mesh_host(service_id: str) -> str:
    """Return the host that reaches a service through the mesh."""
    return service_id + MESH_HOST_SUFFIX


def service_module(folder_name: str) -> str:
    """Return the Python module path of a service folder."""
    return "services." + folder_name


# Entity names (Platformatic's rules): a table `order_items` (or `OrderItems`)
# is the entity `orderItem`, plural `orderItems`; columns are camelCase.

_IRREGULAR = {
    "person": "people",
    "child": "children",
    "man": "men",
    "woman": "women",
    "mouse": "mice",
    "goose": "geese",
    "foot": "feet",
    "tooth": "teeth",
    "datum": "data",
    "status": "statuses",
    "bus": "buses",
    "alias": "aliases",
    "campus": "campuses",
    "virus": "viruses",
    "house": "houses",
}
_IRREGULAR_SINGULAR = {plural: singular for singular, plural in _IRREGULAR.items()}
_UNCOUNTABLE = {
    "data",
    "information",
    "series",
    "species",
    "news",
    "equipment",
    "metadata",
    "media",
}
_WORD_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def words(name: str) -> list[str]:
    """Split ``order_items``, ``OrderItems`` or ``orderItems`` into lower words."""
    return [w.lower() for w in _WORD_RE.findall(name)] or [name.lower()]


def camel(name: str) -> str:
    """Return ``name`` in camelCase: ``AlbumId`` -> ``albumId``."""
    parts = words(name)
    text = parts[0] + "".join(w.title() for w in parts[1:])
    return text if text[:1].isalpha() else "f" + text


def pascal(name: str) -> str:
    """Return ``name`` in PascalCase: ``order_items`` -> ``OrderItems``."""
    return "".join(w.title() for w in words(name))


def singular(word: str) -> str:
    """Return the singular of an English lower-case ``word``."""
    if word in _UNCOUNTABLE:
        return word
    if word in _IRREGULAR_SINGULAR:
        return _IRREGULAR_SINGULAR[word]
    for suffix, replacement in (
        ("ies", "y"),
        ("sses", "ss"),
        ("shes", "sh"),
        ("ches", "ch"),
        ("xes", "x"),
        ("zes", "z"),
    ):
        if word.endswith(suffix) and len(word) > len(suffix):
            return word[: -len(suffix)] + replacement
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def plural(word: str) -> str:
    """Return the plural of an English lower-case singular ``word``."""
    if word in _UNCOUNTABLE:
        return word
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith("y") and word[-2:-1] not in tuple("aeiou"):
        return word[:-1] + "ies"
    if word.endswith(("s", "sh", "ch", "x", "z")):
        return word + "es"
    return word + "s"


def entity_name(table: str) -> str:
    """Return the entity name of a table: ``order_items`` -> ``orderItem``."""
    parts = words(table)
    parts[-1] = singular(parts[-1])
    return camel("_".join(parts))


def plural_name(entity: str) -> str:
    """Return an entity's plural: ``orderItem`` -> ``orderItems``."""
    parts = words(entity)
    parts[-1] = plural(parts[-1])
    return camel("_".join(parts))


def relation_name(column: str) -> str:
    """Return a foreign key's relation name: ``owner_id`` -> ``owner``.

    A column without an ``_id``/``Id`` suffix keeps its name:
    ``ReportsTo`` -> ``reportsTo``.
    """
    parts = words(column)
    if len(parts) > 1 and parts[-1] == "id":
        parts = parts[:-1]
    return camel("_".join(parts))
