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
from platform_core.rest import pagination
from platform_core.rest.openapi import EntitySchema
from platform_core.rest.params import ListParams, parse_fields, parse_list, parse_only


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


def read_json(request) -> Any:
    """Return the JSON body of ``request``; 415, 413 or 400 when it is not one."""
    content_type = request.content_type or ""
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise APIError(
            UNSUPPORTED_MEDIA_TYPE,
            415,
            "The body must be JSON (Content-Type: application/json)",
        )
    try:
        raw = request.body
    except RequestDataTooBig:
        raise APIError(PAYLOAD_TOO_LARGE, 413, "The body is too large") from None
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

    def list_page(self, params: ListParams, condition: Q | None = None) -> HttpResponse:
        """Answer one page of rows, with X-Total-Count and cursors when asked."""
        entity = self.get_entity()
        order = params.order_by
        headers = {}
        backwards = False
        if params.cursor:
            order = pagination.cursor_order(entity.info, order)
            cursor = params.start_after or params.end_before
            if cursor:
                backwards = bool(params.end_before)
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
        parse_only(request.GET, ("fields",))
        body = read_json(request)
        rows = self.get_entity().insert(
            body if isinstance(body, list) else [body], parse_fields(request.GET)
        )
        if isinstance(body, list):
            return json_response(rows, status=201)
        return json_response(
            rows[0], status=201, headers={"Location": self.location(rows[0])}
        )

    def location(self, row: dict) -> str:
        """Return the URL of ``row``."""
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
        row = self.get_entity().get(
            self.key(kwargs), parse_fields(request.GET), from_text=True
        )
        if row is None:
            raise self.missing()
        return json_response(row)

    def _update(self, request, kwargs, partial: bool):
        parse_only(request.GET, ("fields",))
        row, created = self.get_entity().update(
            self.key(kwargs),
            read_json(request),
            partial=partial,
            fields=parse_fields(request.GET),
            upsert=not partial,
            from_text=True,
        )
        if row is None:
            raise self.missing()
        return json_response(row, status=201 if created else 200)

    def put(self, request, **kwargs):
        return self._update(request, kwargs, partial=False)

    def patch(self, request, **kwargs):
        return self._update(request, kwargs, partial=True)

    def delete(self, request, **kwargs):
        parse_only(request.GET, ("fields",))
        rows = self.get_entity().delete(
            key=self.key(kwargs), fields=parse_fields(request.GET), from_text=True
        )
        if not rows:
            raise self.missing()
        return json_response(rows[0])


class RelationView(EntityView):
    """``/<plural>/<pk>/<relation>``: the parent row of a foreign key."""

    parent: Entity = None  # the entity whose row is in the path
    relation: Relation = None

    def get(self, request, **key):
        parse_only(request.GET, ("fields",))
        child = self.parent.get(key, (self.relation.field,), from_text=True)
        value = child and child[self.relation.field]
        if value is None:
            raise APIError(
                NOT_FOUND,
                404,
                f"No {self.relation.name} for this {self.parent.info.entity}",
            )
        row = self.get_entity().find(
            {self.relation.to_field: {"eq": value}},
            fields=parse_fields(request.GET),
            limit=1,
        )
        if not row:
            raise APIError(
                NOT_FOUND,
                404,
                f"No {self.relation.name} for this {self.parent.info.entity}",
            )
        return json_response(row[0])


class ReverseRelationView(EntityView):
    """``/<plural>/<pk>/<children>``: rows pointing at the parent, as a list."""

    parent: Entity = None
    relation: ReverseRelation = None

    def get(self, request, **key):
        params = parse_list(
            request.GET, self.db_options.limit_default, self.db_options.limit_max
        )
        parent = self.parent.get(key, (self.relation.to_field,), from_text=True)
        if parent is None:
            raise APIError(
                NOT_FOUND, 404, f"No {self.parent.info.entity} with that key"
            )
        attname = self.get_entity().info.fields[self.relation.field].attname
        return self.list_page(params, Q(**{attname: parent[self.relation.to_field]}))
