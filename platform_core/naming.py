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


def app_label(service_id: str) -> str:
    """Return the Django app label of a service id."""
    return service_id.replace("-", "_")


def default_prefix(service_id: str) -> str:
    """Return the URL prefix a service gets when its config names none."""
    return "/" + service_id


def mesh_host(service_id: str) -> str:
    """Return the host that reaches a service through the mesh."""
    return service_id + MESH_HOST_SUFFIX


def service_module(folder_name: str) -> str:
    """Return the Python module path of a service folder."""
    return "services." + folder_name
