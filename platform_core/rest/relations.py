"""The GET handlers of relation routes, for keys of one column or several.

``rest.routes`` sets them as the ``get`` of the generated ``RelationView``
and ``ReverseRelationView`` classes. The parent's or the children's rows
are selected with the typed key values (a uuid, a date) as the ORM takes
them, pair by pair for a foreign key of several columns::

    /orderLines/{id}/order          (tenant_id, order_id) -> orders (tenant_id, id)
    /orders/{id}/orderLines
"""

from __future__ import annotations

from django.db.models import Q

from platform_core.exceptions import NOT_FOUND, APIError
from platform_core.rest.params import parse_fields, parse_list, parse_only
from platform_core.rest.views import json_response


def _match(entity, fields: tuple[str, ...], values) -> Q:
    """Return the Q of ``entity``'s rows whose ``fields`` equal ``values``."""
    attnames = [entity.info.fields[name].attname for name in fields]
    return Q(**dict(zip(attnames, values, strict=True)))


def parent_get(view, request, **key):
    """Answer the parent row of the row ``key`` (404 if absent or null)."""
    parse_only(request.GET, ("fields",))
    relation = view.relation
    missing = APIError(
        NOT_FOUND, 404, f"No {relation.name} for this {view.parent.info.entity}"
    )
    child = view.parent.get(key, relation.fields, from_text=True)
    values = child and [child[name] for name in relation.fields]
    if not values or None in values:
        raise missing
    target = view.get_entity()
    rows = target.find(
        fields=parse_fields(request.GET),
        limit=1,
        condition=_match(target, relation.to_fields, values),
    )
    if not rows:
        raise missing
    return json_response(rows[0])


def children_get(view, request, **key):
    """Answer the rows pointing at the row ``key``, as a list page."""
    options = view.db_options
    params = parse_list(request.GET, options.limit_default, options.limit_max)
    relation = view.relation
    parent = view.parent.get(key, relation.to_fields, from_text=True)
    if parent is None:
        raise APIError(NOT_FOUND, 404, f"No {view.parent.info.entity} with that key")
    values = [parent[name] for name in relation.to_fields]
    return view.list_page(params, _match(view.get_entity(), relation.fields, values))
