"""Batch loading of relations: a constant number of queries per query level.

Before rows are returned, ``prefetch`` walks the selection set: for each
relation field it loads the related rows of *all* parents in one query
(``WHERE key IN (...)``), then recurses into the children's own selection.
Relation fields then only read what was prefetched::

    rows = entity.find(...)
    prefetch(types, entity, rows, field_node, info)   # 1 query per relation
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Q
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLResolveInfo,
    InlineFragmentNode,
)
from graphql.execution.values import get_argument_values

from platform_core.entities.entity import EntityHooks
from platform_core.exceptions import INVALID_LIMIT, bad_request

PREFETCHED = "__joule_prefetched__"


def prefetched(row: dict, info: GraphQLResolveInfo, **kwargs: Any) -> Any:
    """Resolve a relation field from what ``prefetch`` stored on the row."""
    return row.get(PREFETCHED, {}).get(info.path.key)


def plain(value: Any) -> Any:
    """Return GraphQL argument values as plain dicts, lists and strings."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return getattr(value, "value", value)  # enum members


def check_limit(limit: Any, options, offset: Any = 0) -> tuple[int, int]:
    """Return (limit, offset) with the REST defaults and bounds; 400 outside."""
    limit = options.limit_default if limit is None else limit
    offset = offset or 0
    if not 0 <= limit <= options.limit_max:
        raise bad_request(
            INVALID_LIMIT,
            f"limit must be between 0 and {options.limit_max}, not {limit}",
        )
    if offset < 0:
        raise bad_request(INVALID_LIMIT, f"offset must be 0 or more, not {offset}")
    return limit, offset


def order_of(order_by: list | None) -> list[tuple[str, str]]:
    """Return orderBy arguments as entities ordering."""
    return [
        (item["field"], item.get("direction") or "asc")
        for item in plain(order_by or [])
    ]


def field_nodes(selection_set, fragments: dict):
    """Yield the field nodes of a selection set, through fragments."""
    for node in selection_set.selections if selection_set else ():
        if isinstance(node, FieldNode):
            yield node
        elif isinstance(node, InlineFragmentNode):
            yield from field_nodes(node.selection_set, fragments)
        elif isinstance(node, FragmentSpreadNode):
            yield from field_nodes(fragments[node.name.value].selection_set, fragments)


def selected_fields(
    entity, node: FieldNode, info: GraphQLResolveInfo, *needed: str
) -> tuple[str, ...] | None:
    """Return the columns a selection needs (its scalars, the keys of its
    relations, and ``needed``), or None (all) when rules may hide columns."""
    if type(entity.hooks) is not EntityHooks:
        return None
    forward = {r.name: r.fields for r in entity.info.relations}
    reverse = {r.name: r.to_fields for r in entity.info.reverse}
    names = list(needed)
    for child in field_nodes(node.selection_set, info.fragments):
        name = child.name.value
        if name in entity.info.fields:
            names.append(name)
        elif name in forward:
            names.extend(forward[name])
        elif name in reverse:
            names.extend(reverse[name])
    return tuple(dict.fromkeys(names)) or entity.info.primary_key


def check_selection(types, entity, node: FieldNode, fragments: dict) -> None:
    """Refuse (403) a selection naming a column a rule hides, at any depth.

    Mutations call it before writing, so a refused answer writes nothing.
    """
    relations = {r.name: r.entity for r in entity.info.relations}
    relations.update(
        {r.name: r.entity for r in entity.info.reverse if r.name not in relations}
    )
    names = []
    for child in field_nodes(node.selection_set, fragments):
        name = child.name.value
        if name in entity.info.fields:
            names.append(name)
        elif name in relations:
            check_selection(types, types.entities[relations[name]], child, fragments)
    if names:
        entity.names(names, "find", None)


def prefetch(
    types, entity, rows: list[dict], node: FieldNode, info: GraphQLResolveInfo
) -> None:
    """Load every relation selected under ``node`` for all ``rows`` at once.

    Raise a 403 APIError when a level selects a column its rule hides.
    """
    if not rows or node.selection_set is None:
        return
    info_ = entity.info
    graphql_type = info.schema.get_type(types.object(info_.entity)._meta.name)
    forward = {r.name: r for r in info_.relations}
    reverse = {r.name: r for r in info_.reverse if r.name not in forward}
    for child in field_nodes(node.selection_set, info.fragments):
        name = child.name.value
        key = child.alias.value if child.alias else name
        if name in forward:
            _load_parents(types, rows, forward[name], key, child, info)
        elif name in reverse:
            arguments = get_argument_values(
                graphql_type.fields[name], child, info.variable_values
            )
            _load_children(types, rows, reverse[name], key, child, info, arguments)


def _key_of(row: dict, fields: tuple[str, ...]) -> tuple | None:
    """Return the values of ``fields`` in ``row``; None when one is null."""
    values = tuple(row.get(name) for name in fields)
    return None if None in values else values


def _keys_condition(target, fields: tuple[str, ...], keys: list[tuple]) -> Q:
    """Return the Q of the rows of ``target`` whose ``fields`` are one of ``keys``.

    Typed values go straight to the ORM (a uuid is no text to parse again).
    """
    attnames = [target.info.fields[name].attname for name in fields]
    if len(attnames) == 1:
        return Q(**{f"{attnames[0]}__in": [key[0] for key in keys]})
    condition = Q()
    for key in keys:
        condition |= Q(**dict(zip(attnames, key, strict=True)))
    return condition


def _distinct_keys(rows: list[dict], fields: tuple[str, ...]) -> list[tuple]:
    keys = {_key_of(row, fields) for row in rows} - {None}
    return sorted(keys, key=str)


def _load_parents(types, rows, relation, key, node, info) -> None:
    target = types.entities[relation.entity]
    keys = _distinct_keys(rows, relation.fields)
    fields = selected_fields(target, node, info, *relation.to_fields)
    found = (
        target.find(
            fields=fields,
            condition=_keys_condition(target, relation.to_fields, keys),
        )
        if keys
        else []
    )
    by_key = {_key_of(row, relation.to_fields): row for row in found}
    for row in rows:
        parent = by_key.get(_key_of(row, relation.fields))
        row.setdefault(PREFETCHED, {})[key] = parent
    prefetch(types, target, found, node, info)


def _load_children(types, rows, reverse, key, node, info, arguments) -> None:
    target = types.entities[reverse.entity]
    limit, offset = check_limit(
        arguments.get("limit"), types.options, arguments.get("offset")
    )
    keys = _distinct_keys(rows, reverse.to_fields)
    children = (
        target.find(
            plain(arguments.get("where")),
            order_of(arguments.get("orderBy")),
            fields=selected_fields(target, node, info, *reverse.fields),
            condition=_keys_condition(target, reverse.fields, keys),
        )
        if keys
        else []
    )
    groups: dict[Any, list[dict]] = defaultdict(list)
    for child in children:
        groups[_key_of(child, reverse.fields)].append(child)
    kept = []
    for row in rows:
        parent_key = _key_of(row, reverse.to_fields)
        page = groups.get(parent_key, [])[offset : offset + limit]
        row.setdefault(PREFETCHED, {})[key] = page
        kept.extend(page)
    prefetch(types, target, kept, node, info)
