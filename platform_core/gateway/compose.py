"""The composed API: one OpenAPI document over every service and upstream.

Each Django-served service's document is generated as its own
``/<prefix>/openapi.json`` is (drf-spectacular), each upstream's is fetched
from its configured ``openapi`` URL, and all are merged: paths under the
service prefix, components renamed ``<Service><Name>`` with every ``$ref``
rewritten, operationIds prefixed and unique, tags = the service id. The
GraphQL side is ``graphql.schema.composed_schema``; both are served by
``gateway.views`` at ``/openapi.json``, ``/docs`` and ``/graphql``::

    document = composed_openapi()          # cached, rebuilt on schema change
    compose_openapi(specs, [UpstreamDocument(upstream, document)])
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from platform_core import naming
from platform_core.config.services import Upstream
from platform_core.config.types import ServiceSpec
from platform_core.gateway.documents import (
    DocumentUnavailable,
    UpstreamDocument,
    fetch_upstream_documents,
    service_document,
)
from platform_core.registry import ServiceRegistry, services

logger = logging.getLogger("joule.gateway")
# Kinds whose routes Django serves, so drf-spectacular can describe them.
DESCRIBED_KINDS = ("db", "service", "gateway")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Seconds a fetched upstream document is kept; after a failure, retried sooner.
UPSTREAM_TTL = 60.0
UPSTREAM_RETRY = 5.0
_REF = re.compile(r"^#/components/(?P<section>[A-Za-z]+)/(?P<name>[^/]+)$")


@dataclass
class Part:
    """One document to merge: whose it is and where its paths are mounted."""

    name: str
    prefix: str
    document: dict
    description: str = ""


# merging


@dataclass
class Merged:
    """The composed document being built."""

    paths: dict = field(default_factory=dict)
    components: dict = field(default_factory=dict)
    tags: list = field(default_factory=list)
    operation_ids: set = field(default_factory=set)
    notes: list = field(default_factory=list)
    version: str = "3.0.3"


def _component_names(part: Part, merged: Merged) -> dict[tuple[str, str], str]:
    """Return the new name of every component of ``part``: ``<Service><Name>``."""
    namespace = naming.pascal(part.name)
    renames = {}
    for section, items in (part.document.get("components") or {}).items():
        taken = merged.components.setdefault(section, {})
        for name in items or {}:
            new, number = namespace + name, 2
            while new in taken:  # two parts with the same namespace
                new, number = f"{namespace}{name}{number}", number + 1
            taken[new] = None
            renames[section, name] = new
    return renames


def _rewrite(node: Any, renames: dict[tuple[str, str], str]) -> Any:
    """Return ``node`` with every component ``$ref`` pointing at its new name."""
    if isinstance(node, dict):
        result = {key: _rewrite(value, renames) for key, value in node.items()}
        ref = node.get("$ref")
        if isinstance(ref, str) and (match := _REF.match(ref)):
            new = renames.get((match["section"], match["name"]))
            if new is not None:
                result["$ref"] = f"#/components/{match['section']}/{new}"
        mapping = node.get("mapping")
        if isinstance(mapping, dict):  # a discriminator's mapping holds refs too
            result["mapping"] = {
                key: _rewrite({"$ref": value}, renames)["$ref"]
                if isinstance(value, str)
                else value
                for key, value in mapping.items()
            }
        return result
    if isinstance(node, list):
        return [_rewrite(item, renames) for item in node]
    return node


def _security(requirements: list, renames: dict[tuple[str, str], str]) -> list:
    """Return security requirements naming the renamed security schemes."""
    return [
        {
            renames.get(("securitySchemes", name), name): scopes
            for name, scopes in requirement.items()
        }
        for requirement in requirements
        if isinstance(requirement, dict)
    ]


def _operation_id(part: Part, operation: dict, method: str, path: str) -> str:
    own = operation.get("operationId")
    if not isinstance(own, str) or not own:
        own = method + naming.pascal(path) if naming.words(path) else method
    return naming.camel(part.name) + own[:1].upper() + own[1:]


def _unique(operation_id: str, taken: set) -> str:
    new, number = operation_id, 2
    while new in taken:
        new, number = f"{operation_id}{number}", number + 1
    taken.add(new)
    return new


def _operations(part: Part, path: str, item: dict, renames, merged: Merged) -> dict:
    """Return a path item with its operations renamed and tagged."""
    security = part.document.get("security")
    result = {}
    for key, value in item.items():
        if key.lower() not in HTTP_METHODS or not isinstance(value, dict):
            result[key] = value
            continue
        operation = dict(value)
        operation["operationId"] = _unique(
            _operation_id(part, operation, key.lower(), path), merged.operation_ids
        )
        operation["tags"] = [part.name]
        if "security" in operation or security is not None:
            operation["security"] = _security(
                operation.get("security", security), renames
            )
        result[key] = operation
    return result


def merge(part: Part, merged: Merged) -> None:
    """Merge ``part`` into ``merged``; a path already there is kept and noted."""
    document = part.document
    renames = _component_names(part, merged)
    for (section, name), new in renames.items():
        value = document["components"][section][name]
        merged.components[section][new] = _rewrite(value, renames)
    for path, item in (document.get("paths") or {}).items():
        full = (part.prefix + path) if path != "/" else part.prefix + "/"
        if full in merged.paths:
            merged.notes.append(f"{part.name}: {full} is already taken; left out")
            continue
        item = _rewrite(item, renames) if isinstance(item, dict) else {}
        merged.paths[full] = _operations(part, path, item, renames, merged)
    merged.tags.append(
        {"name": part.name, "description": part.description or f"{part.name} API"}
    )
    if str(document.get("openapi", "")).startswith("3.1"):
        merged.version = "3.1.0"


def compose_openapi(
    specs: Iterable[ServiceSpec], upstream_documents: Iterable[UpstreamDocument]
) -> dict:
    """Return one OpenAPI 3 document merging every service and upstream document.

    Parts that cannot be had (a custom view spectacular cannot describe, an
    upstream that is down) are left out and named in ``info.description``.
    """
    merged = Merged()
    for spec in specs:
        if spec.kind not in DESCRIBED_KINDS:
            continue
        try:
            document = service_document(spec)
        except DocumentUnavailable as exc:
            merged.notes.append(f"service {spec.id}: {exc}")
            continue
        if document.get("paths"):
            description = f"Service '{spec.id}' ({spec.kind}) under {spec.prefix}"
            merge(Part(spec.id, spec.prefix, document, description), merged)
    for found in upstream_documents:
        upstream = found.upstream
        if found.document is None:
            merged.notes.append(f"upstream {upstream.prefix}: {found.error}")
            continue
        description = f"The upstream {upstream.url} under {upstream.prefix}"
        part = Part(upstream.name, upstream.prefix, found.document, description)
        merge(part, merged)
    return _document(merged)


def _document(merged: Merged) -> dict:
    description = "Every service of the platform, composed by the gateway."
    if merged.notes:
        description += "\n\nNot included:\n" + "\n".join(
            f"- {note}" for note in merged.notes
        )
    document = {
        "openapi": merged.version,
        "info": {"title": "Joule", "version": "1.0.0", "description": description},
        "paths": merged.paths,
        "tags": merged.tags,
    }
    components = {k: v for k, v in merged.components.items() if v}
    if components:
        document["components"] = components
    return document


# the cached document


def gateway_upstreams(registry: ServiceRegistry = services) -> list[Upstream]:
    """Return the upstreams of every gateway service."""
    return [
        upstream
        for spec in registry
        if spec.kind == "gateway"
        for upstream in spec.options.upstreams
    ]


class ComposedDocument:
    """The composed document, kept until a schema or the service set changes.

    With upstream documents in it, it is also rebuilt after ``UPSTREAM_TTL``
    seconds (``UPSTREAM_RETRY`` after a failed fetch).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._built: tuple | None = None  # (services, expires, document)

    def get(self, registry: ServiceRegistry = services) -> dict:
        """Return the composed document of ``registry``'s services."""
        specs = tuple(registry)
        built = self._built
        if built is not None and built[0] == specs and time.monotonic() < built[1]:
            return built[2]
        with self._lock:
            built = self._built
            if built is None or built[0] != specs or time.monotonic() >= built[1]:
                built = self._build(registry, specs)
                self._built = built
        return built[2]

    def _build(self, registry: ServiceRegistry, specs: tuple) -> tuple:
        found = fetch_upstream_documents(gateway_upstreams(registry))
        document = compose_openapi(specs, found)
        ttl = float("inf")
        if found:
            failed = any(f.document is None for f in found)
            ttl = UPSTREAM_RETRY if failed else UPSTREAM_TTL
        return specs, time.monotonic() + ttl, document

    def forget(self, sender: Any = None, **kwargs: Any) -> None:
        """Drop the document (a ``schema_forgotten`` receiver)."""
        self._built = None


composed_document = ComposedDocument()
composed_openapi = composed_document.get
forget_composition = composed_document.forget
