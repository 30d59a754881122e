"""Conditional requests on one row: ``ETag``, ``If-Match``, ``If-None-Match``.

``GET /<plural>/<pk>`` answers with the row's ETag (``entities.versions``)
and 304 when ``If-None-Match`` names it; ``PUT``, ``PATCH`` and ``DELETE``
of one row take ``If-Match``, checked by the entities API on the locked
row (412 PRECONDITION_FAILED), and PUT and PATCH answer with the new
ETag. The fast routes serve the same GET through the same view::

    precondition = precondition_of(request)        # If-Match, parsed
    row, created = entity.update(key, body, False, precondition=precondition)
    json_response(row, headers=etag_headers(precondition))
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.http import HttpResponseNotModified

from platform_core.entities.versions import Precondition, read_etag, row_etag
from platform_core.exceptions import INVALID_HEADERS, bad_request

# One entity-tag of RFC 9110 (8.8.3): optionally weak, a quoted opaque string.
_TAG = r'(?:W/)?"[\x21\x23-\x7e\x80-\xff]*"'
_TAGS = re.compile(rf"^\s*{_TAG}(?:\s*,\s*{_TAG})*\s*$")
_ONE_TAG = re.compile(_TAG)


def parse_tags(header: str, name: str) -> tuple[str, ...]:
    """Return the entity-tags of an ``If-Match``/``If-None-Match`` value.

    ``*`` is ``("*",)``. Raise 400 (INVALID_HEADERS) for anything else that
    is not a comma-separated list of quoted tags.
    """
    if header.strip() == "*":
        return ("*",)
    if not _TAGS.match(header):
        raise bad_request(
            INVALID_HEADERS,
            f"{name} must be * or a list of ETags as the server sent them, "
            'quotes included (If-Match: "5e1f..."); got ' + repr(header),
        )
    return tuple(_ONE_TAG.findall(header))


def precondition_of(request: Any) -> Precondition:
    """Return the Precondition of a write of one row (its If-Match, if any)."""
    header = request.headers.get("if-match")
    if header is None:
        return Precondition()
    return Precondition(if_match=parse_tags(header, "If-Match"))


def etag_headers(precondition: Precondition) -> dict[str, str]:
    """Return the ``ETag`` header of a written row (none when unknown)."""
    return {} if precondition.etag is None else {"ETag": precondition.etag}


def item_etag(
    entity: Any, key: Mapping[str, Any], row: Mapping[str, Any], fields: Any
) -> str | None:
    """Return the ETag of the row ``key`` answered as ``row`` (``fields=``).

    The ETag is that of the row as the caller reads it by default, so the
    same row has one ETag whatever ``fields`` a client asks for.
    """
    if fields is None:
        return row_etag(entity.info, row)
    return read_etag(entity, entity.pk_filter(key, from_text=True), None)


def not_modified(request: Any, etag: str | None) -> HttpResponseNotModified | None:
    """Return a 304 when ``If-None-Match`` names ``etag`` (or is ``*``).

    Tags compare weakly (RFC 9110, 13.1.2): ``W/"x"`` matches ``"x"``.
    """
    header = request.headers.get("if-none-match")
    if header is None or etag is None:
        return None
    tags = parse_tags(header, "If-None-Match")
    if "*" not in tags and etag not in {tag.removeprefix("W/") for tag in tags}:
        return None
    response = HttpResponseNotModified()
    response["ETag"] = etag
    return response
