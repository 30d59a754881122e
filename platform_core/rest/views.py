"""Views of the generated REST API: thin DRF views over an ``Entity``.

Bodies are parsed with orjson (malformed: 400, too large: 413, not JSON:
415) and answers are written with orjson; DRF supplies dispatch, errors and
the OpenAPI description (``rest.openapi``)::

    path("posts", CollectionView.as_view(entity=posts, db_options=db_options))
"""

from __future__ import annotations

from typing import Any

import orjson
from django.core.exceptions import RequestDataTooBig
from django.db.models import Q
from django.http import HttpResponse
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from platform_core.config.services import DbOptions
from platform_core.entities.entity import Entity
from platform_core.entities.values import json_default
from platform_core.exceptions import (
    INVALID_BODY,
    NOT_FOUND,
    PAYLOAD_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    APIError,
    bad_request,
)
from platform_core.introspection import Relation, ReverseRelation
from platform_core.rest import conditional, pagination
from platform_core.rest.idempotency import idempotent
from platform_core.rest.openapi import EntitySchema
from platform_core.rest.params import (
    ListParams,
    check_encoding,
    parse_fields,
    parse_list,
    parse_only,
)


def json_response(
    data: Any, status: int = 200, headers: dict | None = None
) -> HttpResponse:
    """Return ``data`` as a JSON response written by orjson."""
    return HttpResponse(
        orjson.dumps(data, default=json_default),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def raw_query(request) -> bytes:
    """Return the query string of ``request`` as the client's bytes."""
    scope = getattr(request, "scope", None)  # ASGI: Django's request or FastRequest
    if scope is not None:
        return scope.get("query_string", b"")
    text = request.META.get("QUERY_STRING", "")
    try:
        return text.encode("latin-1")  # WSGI gives the bytes as latin-1 (PEP 3333)
    except UnicodeEncodeError:
        return text.encode("utf-8")


def _require_json(request) -> None:
    """Raise 415 unless the body is declared JSON.

    A cross-site form can send no other type than form data or text/plain, so
    a cookie-authenticated write can't be forged (and fetch() sends JSON
    cross-site only after a CORS preflight, which the platform answers
    without Access-Control-Allow-Origin).
    """
    content_type = request.content_type or ""
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise APIError(
            UNSUPPORTED_MEDIA_TYPE,
            415,
            "The body must be JSON (Content-Type: application/json)",
        )


def _body(request) -> bytes:
    try:
        return request.body
    except RequestDataTooBig:
        raise APIError(PAYLOAD_TOO_LARGE, 413, "The body is too large") from None


def refuse_body(request) -> None:
    """Raise 415 for a body that is not JSON on a route that takes none (DELETE)."""
    if _body(request):
        _require_json(request)


def read_json(request) -> Any:
    """Return the JSON body of ``request``; 415, 413 or 400 when it is not one."""
    _require_json(request)
    raw = _body(request)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad_request(INVALID_BODY, f"Malformed JSON body: {exc}") from None


class JSONOnly(BaseContentNegotiation):
    """Answer JSON whatever the Accept header says (no 406 for browsers)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class EntityView(APIView):
    """Base of the generated views: no DRF auth, JSON only."""

    entity: Entity = None
    # named db_options: DRF answers OPTIONS with a method called options
    db_options: DbOptions = DbOptions()
    authentication_classes = ()
    permission_classes = ()
    renderer_classes = (JSONRenderer,)
    parser_classes = ()
    content_negotiation_class = JSONOnly
    schema = EntitySchema()

    def get_entity(self) -> Entity:
        """Return the entity this view serves."""
        return self.entity

    def initial(self, request, *args, **kwargs) -> None:
        """Refuse a query string that is not UTF-8 (400), then as DRF.

        The fast routes do the same when they parse the query
        (``fastpath.routes``).
        """
        check_encoding(raw_query(request))
        super().initial(request, *args, **kwargs)

    def list_page(self, params: ListParams, condition: Q | None = None) -> HttpResponse:
        """Answer one page of rows, with X-Total-Count and cursors when asked."""
        entity = self.get_entity()
        order = params.order_by
        headers = {}
        backwards = False
        if params.cursor:
            order = pagination.cursor_order(entity.info, order)
            cursor = params.start_after
            if cursor is None:
                cursor = params.end_before
            if cursor is not None:
                backwards = params.end_before is not None
                values = pagination.decode(entity.info, cursor, order)
                condition = (condition or Q()) & pagination.after(
                    entity.info, order, values, backwards
                )
        fields = params.fields
        if params.cursor and fields is not None:
            fields = (*fields, *(n for n, _ in order if n not in fields))
        rows = entity.find(
            params.where,
            pagination.reverse(order) if backwards else order,
            fields,
            params.limit,
            params.offset,
            from_text=True,
            condition=condition,
        )
        if backwards:
            rows.reverse()
        if params.cursor and rows:
            headers["X-Start-After"] = pagination.encode(rows[-1], order)
            headers["X-End-Before"] = pagination.encode(rows[0], order)
            if params.fields is not None:
                rows = [{k: row[k] for k in params.fields} for row in rows]
        if params.total_count:
            headers["X-Total-Count"] = str(
                entity.count(params.where, from_text=True, condition=condition)
            )
        return json_response(rows, headers=headers)


class CollectionView(EntityView):
    """``/<plural>``: list, insert (one or many), update and delete by where."""

    def get(self, request):
        options = self.db_options
        return self.list_page(
            parse_list(request.GET, options.limit_default, options.limit_max)
        )

    def post(self, request):
        ttl = self.db_options.idempotency_ttl
        entity = self.get_entity()
        return idempotent(request, entity, ttl, lambda: self.insert_rows(request))

    def insert_rows(self, request):
        """Insert the row (or array of rows) of the body; answer 201."""
        parse_only(request.GET, ("fields",))
        body = read_json(request)
        fields = parse_fields(request.GET)
        if isinstance(body, list):
            if not body:
                raise bad_request(
                    INVALID_BODY, "The body is an empty array; give at least one row"
                )
            return json_response(self.get_entity().insert(body, fields), status=201)
        selected = None if fields is None else self._with_key(fields)
        row = self.get_entity().insert([body], selected)[0]
        location = self.location(row)
        if fields is not None:
            row = {name: row[name] for name in fields}
        return json_response(row, status=201, headers={"Location": location})

    def _with_key(self, fields: tuple[str, ...]) -> tuple[str, ...]:
        """Return ``fields`` and the primary key the caller may read (Location)."""
        entity = self.get_entity()
        missing = [name for name in entity.info.primary_key if name not in fields]
        if not missing or not entity.info.writable:
            return fields
        allowed = entity.hooks.fields(entity.info, "save", None)
        return (*fields, *(n for n in missing if allowed is None or n in allowed))

    def location(self, row: dict) -> str:
        """Return the URL of ``row``; the collection's when its key is hidden."""
        info = self.get_entity().info
        if set(info.primary_key) - row.keys():
            return self.request.path
        if len(info.primary_key) == 1:
            return f"{self.request.path.rstrip('/')}/{row[info.primary_key[0]]}"
        parts = "/".join(
            f"{label}/{row[field]}" for label, field in info.key_segments()
        )
        return f"{self.request.path.rstrip('/')}/{parts}"

    def _where(self, request) -> ListParams:
        params = parse_list(request.GET, 1, 1, allowed=("fields",), ordering=False)
        if not params.where:
            raise bad_request(
                "MISSING_WHERE",
                "Give at least one where.<field>.<op> "
                "filter; it selects the rows to change",
            )
        return params

    def put(self, request):
        params = self._where(request)
        body = read_json(request)
        return json_response(
            self.get_entity().update_where(
                params.where, body, params.fields, from_text=True
            )
        )

    def delete(self, request):
        params = self._where(request)
        refuse_body(request)
        return json_response(
            self.get_entity().delete(
                where=params.where, fields=params.fields, from_text=True
            )
        )


class ItemView(EntityView):
    """``/<plural>/<pk>`` (composite: ``/<plural>/<k1>/<v1>/<k2>/<v2>``)."""

    def key(self, kwargs: dict) -> dict:
        """Return the primary key given in the path."""
        return {name: kwargs[name] for name in self.get_entity().info.primary_key}

    def missing(self) -> APIError:
        return APIError(
            NOT_FOUND, 404, f"No {self.get_entity().info.entity} with that key"
        )

    def get(self, request, **kwargs):
        parse_only(request.GET, ("fields",))
        fields = parse_fields(request.GET)
        row = self.get_entity().get(self.key(kwargs), fields, from_text=True)
        if row is None:
            raise self.missing()
        etag = conditional.item_etag(self.get_entity(), self.key(kwargs), row, fields)
        unchanged = conditional.not_modified(request, etag)
        return unchanged or json_response(row, headers={"ETag": etag})

    def _update(self, request, kwargs, partial: bool):
        parse_only(request.GET, ("fields",))
        precondition = conditional.precondition_of(request)
        row, created = self.get_entity().update(
            self.key(kwargs),
            read_json(request),
            partial=partial,
            fields=parse_fields(request.GET),
            upsert=not partial,
            from_text=True,
            precondition=precondition,
        )
        if row is None:
            raise self.missing()
        headers = conditional.etag_headers(precondition)
        return json_response(row, status=201 if created else 200, headers=headers)

    def put(self, request, **kwargs):
        return self._update(request, kwargs, partial=False)

    def patch(self, request, **kwargs):
        return self._update(request, kwargs, partial=True)

    def delete(self, request, **kwargs):
        parse_only(request.GET, ("fields",))
        refuse_body(request)
        rows = self.get_entity().delete(
            key=self.key(kwargs),
            fields=parse_fields(request.GET),
            from_text=True,
            precondition=conditional.precondition_of(request),
        )
        if not rows:
            raise self.missing()
        return json_response(rows[0])


class RelationView(EntityView):
    """``/<plural>/<pk>/<relation>``: the parent row of a foreign key."""

    parent: Entity = None  # the entity whose row is in the path
    relation: Relation = None
    # get: set per route by rest.routes from rest.relations (one-column and
    # multi-column foreign keys alike).


class ReverseRelationView(EntityView):
    """``/<plural>/<pk>/<children>``: rows pointing at the parent, as a list."""

    parent: Entity = None
    relation: ReverseRelation = None

    # get: set per route by rest.routes from rest.relations.
