"""The OpenAPI documents the composed API merges, one per part.

A Django-served service's document is generated as its own
``/<prefix>/openapi.json`` is (drf-spectacular); an upstream's is fetched
from its configured ``openapi`` URL, with the proxy's containment (fixed URL,
no redirects, bounded size and time)::

    service_document(spec)                 # dict, or DocumentUnavailable
    fetch_upstream_documents(upstreams)    # [UpstreamDocument], failures noted
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import yaml

from platform_core.config.services import Upstream
from platform_core.config.types import ServiceSpec

logger = logging.getLogger("joule.gateway")
# An upstream document larger than this is refused (bytes).
MAX_DOCUMENT_SIZE = 10 * 2**20


class DocumentUnavailable(Exception):
    """A part of the composed document could not be had; the message says why."""


@dataclass
class UpstreamDocument:
    """An upstream and its fetched OpenAPI document (or why there is none)."""

    upstream: Upstream
    document: dict | None = None
    error: str = ""


def service_document(spec: ServiceSpec) -> dict:
    """Return the OpenAPI document of a Django-served service.

    A db service's is generated exactly as its ``/<prefix>/openapi.json``;
    other services' from the DRF views of their URLconf. Raise
    DocumentUnavailable when drf-spectacular cannot describe them.
    """
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.settings import patched_settings

    from platform_core.gateway.routing.urlconfs import urlconf_for

    patterns = urlconf_for(spec).urlpatterns
    settings: dict[str, Any] = {"TITLE": f"{spec.id} API"}
    for pattern in patterns:
        initkwargs = getattr(pattern.callback, "view_initkwargs", {})
        if getattr(pattern, "name", None) == "openapi" and "patterns" in initkwargs:
            patterns = initkwargs["patterns"]
            settings = initkwargs.get("custom_settings") or settings
            break
    try:
        with patched_settings(settings), _spectacular_messages(spec):
            generator = SchemaGenerator(patterns=patterns)
            return generator.get_schema(request=None, public=True)
    except Exception as exc:  # a custom view spectacular cannot describe
        logger.warning("%s: no OpenAPI document: %r", spec.id, exc)
        raise DocumentUnavailable(f"{exc.__class__.__name__}: {exc}") from exc


@contextlib.contextmanager
def _spectacular_messages(spec: ServiceSpec) -> Iterator[None]:
    """Log drf-spectacular's warnings of one generation, and keep them out of
    its global statistics (which ``manage.py spectacular --fail-on-warn``
    reads in the same process)."""
    from drf_spectacular.drainage import GENERATOR_STATS

    caches = (GENERATOR_STATS._warn_cache, GENERATOR_STATS._error_cache)
    saved = [dict(cache) for cache in caches]
    try:
        with GENERATOR_STATS.silence():
            yield
    finally:
        for cache, before in zip(caches, saved, strict=True):
            for message in [m for m in cache if m not in before]:
                logger.warning("%s: OpenAPI: %s", spec.id, message)
            cache.clear()
            cache.update(before)


def fetch_document(upstream: Upstream) -> dict:
    """Fetch an upstream's OpenAPI 3 document (JSON or YAML) from its fixed URL.

    No redirect is followed, no environment proxy used, and the wait is
    bounded by the upstream's timeout (at most 10 s). Raise
    DocumentUnavailable saying why it failed.
    """
    url = upstream.openapi_url
    timeout = httpx.Timeout(min(upstream.timeout, 10.0))
    try:
        with (
            httpx.Client(timeout=timeout, trust_env=False) as client,
            client.stream("GET", url, headers={"Accept": "application/json"}) as answer,
        ):
            if answer.status_code != 200:
                raise DocumentUnavailable(f"{url} answered {answer.status_code}")
            body = _read_capped(answer)
    except httpx.HTTPError as exc:
        raise DocumentUnavailable(f"{url}: {exc.__class__.__name__}") from exc
    return _parse_document(body, url)


def _read_capped(answer: httpx.Response) -> bytes:
    chunks, size = [], 0
    for chunk in answer.iter_bytes():
        size += len(chunk)
        if size > MAX_DOCUMENT_SIZE:
            raise DocumentUnavailable(
                f"{answer.url} is larger than {MAX_DOCUMENT_SIZE} bytes"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_document(body: bytes, url: str) -> dict:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        try:
            document = yaml.safe_load(body)
        except yaml.YAMLError:
            raise DocumentUnavailable(f"{url} is neither JSON nor YAML") from None
    if not isinstance(document, dict) or not str(
        document.get("openapi", "")
    ).startswith("3."):
        raise DocumentUnavailable(f"{url} is not an OpenAPI 3 document")
    if not isinstance(document.get("paths", {}), dict):
        raise DocumentUnavailable(f"{url}: paths is not an object")
    return document


def fetch_upstream_documents(upstreams: Iterable[Upstream]) -> list[UpstreamDocument]:
    """Return the documents of the upstreams that name one; failures are noted."""
    found = []
    for upstream in upstreams:
        if upstream.openapi is None:
            continue
        try:
            found.append(UpstreamDocument(upstream, fetch_document(upstream)))
        except DocumentUnavailable as exc:
            logger.warning("upstream %s: OpenAPI not merged: %s", upstream.prefix, exc)
            found.append(UpstreamDocument(upstream, error=str(exc)))
    return found
