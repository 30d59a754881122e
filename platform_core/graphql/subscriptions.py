"""GraphQL subscriptions of a db service: ``<entity>Saved`` and ``<entity>Deleted``.

Each field fires for every write of its entity, from any path (REST, GraphQL,
the entities API, Django admin), with the row as the event carried it on the
channel layer (``events.layer``). A subscription is executed once per event
as an ordinary operation whose root value is that row::

    subscription { productSaved { id title category { name } } }

``SubscriptionPlan`` describes one client subscription; ``payload`` runs it
for an event, sharing the answer among subscribers with the same document
in this process (100 subscribers to one query cost one execution).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import graphene
import orjson
from channels.db import database_sync_to_async
from graphql import (
    ExecutionResult,
    FieldNode,
    GraphQLSchema,
)
from graphql.language import DocumentNode

from platform_core.entities import Entity
from platform_core.entities.values import to_python
from platform_core.graphql.execution import formatted_result, run_document
from platform_core.graphql.loaders import check_selection, field_nodes, prefetch
from platform_core.introspection import ModelInfo

logger = logging.getLogger("joule.graphql")
_DATES = {"DateTimeField", "DateField", "TimeField"}
_CACHED_PAYLOADS = 256


def subscription_fields(types, entity: Entity) -> dict[str, graphene.Field]:
    """Return the fields ``<entity>Saved`` and ``<entity>Deleted`` by action."""
    info = entity.info
    object_type = types.object(info.entity)

    def resolve(row: dict, graphql_info) -> dict:
        row = decode_row(info, row)
        prefetch(types, entity, [row], graphql_info.field_nodes[0], graphql_info)
        return row

    return {
        action: graphene.Field(graphene.NonNull(object_type), resolver=resolve)
        for action in ("Saved", "Deleted")
    }


def decode_row(info: ModelInfo, row: dict) -> dict:
    """Return a JSON-safe row (as events carry it) with dates as Python values."""
    decoded = dict(row)
    for name, value in row.items():
        field_info = info.fields.get(name)
        if value is not None and field_info is not None:
            kind = field_info.field_type
            if kind == "ArrayField":
                kind = field_info.element().field_type
            if kind in _DATES:
                decoded[name] = to_python(field_info, value)
    return decoded


@dataclass
class SubscriptionPlan:
    """One subscription a client started: what to run for which event."""

    id: str
    event: str
    document: DocumentNode
    variables: dict | None
    operation_name: str | None
    # reads_database: the selection has relations, so it runs in a thread.
    reads_database: bool
    # entity: whose rows the events carry (its rules filter them).
    entity: Entity | None = None
    # key: subscriptions with equal keys get the same answer to an event.
    key: tuple = field(default=())


def plan(
    operation_id: str,
    schema: graphene.Schema,
    document: DocumentNode,
    root: FieldNode,
    fragments: dict,
    payload: dict,
) -> SubscriptionPlan:
    """Return the plan of a validated subscription whose root field is ``root``.

    Raise a 403 APIError when the caller's rule hides the entity or a
    selected field (checked once, here, not per event).
    """
    variables = payload.get("variables")
    types, entity = schema.subscription_sources[root.name.value]
    check_selection(types, entity, root, fragments)
    return SubscriptionPlan(
        id=operation_id,
        event=schema.subscription_events[root.name.value],
        document=document,
        variables=variables,
        operation_name=payload.get("operationName"),
        reads_database=_nested(root, fragments),
        entity=entity,
        key=(
            payload["query"],
            orjson.dumps(variables, option=orjson.OPT_SORT_KEYS),
            payload.get("operationName"),
        ),
    )


def _nested(node: FieldNode, fragments: dict) -> bool:
    """Return whether a field selects an object below its own (a relation)."""
    for child in field_nodes(node.selection_set, fragments):
        if child.selection_set is not None:
            return True
    return False


def run(
    schema: GraphQLSchema, plan_: SubscriptionPlan, row: dict, context: Any
) -> ExecutionResult:
    """Execute a subscription for one event's row."""
    return run_document(
        schema,
        plan_.document,
        plan_.variables,
        plan_.operation_name,
        root_value=row,
        context_value=context,
    )


class Payloads:
    """Answers to recent events, shared by the subscriptions of one loop."""

    def __init__(self, size: int = _CACHED_PAYLOADS) -> None:
        self.size = size
        self._answers: OrderedDict[tuple, asyncio.Future] = OrderedDict()

    async def get(self, key: tuple, compute) -> Any:
        """Return the answer under ``key``, awaiting ``compute()`` only once."""
        future = self._answers.get(key)
        if future is not None:
            return await asyncio.shield(future)
        future = asyncio.get_running_loop().create_future()
        self._answers[key] = future
        if len(self._answers) > self.size:
            self._answers.popitem(last=False)
        try:
            answer = await compute()
        except asyncio.CancelledError:
            self._answers.pop(key, None)
            future.cancel()
            raise
        except Exception as exc:
            self._answers.pop(key, None)
            future.set_exception(exc)
            future.exception()  # marked retrieved: waiters raise it themselves
            raise
        future.set_result(answer)
        return answer


_payloads: dict[asyncio.AbstractEventLoop, Payloads] = {}


def payloads() -> Payloads:
    """Return the shared answers of the running loop."""
    loop = asyncio.get_running_loop()
    if loop not in _payloads:
        for stale in [other for other in _payloads if other.is_closed()]:
            del _payloads[stale]
        _payloads[loop] = Payloads()
    return _payloads[loop]


def in_thread(function: Callable) -> Callable:
    """Run ``function`` in one of the loop's threads, connections checked.

    Not Channels' default single shared thread: this consumer's database work
    (events with relations, queries over the socket) may run side by side.
    """
    return database_sync_to_async(function, thread_sensitive=False)


class SubscriptionDelivery:
    """Consumer mixin: events from the hub's queue to this socket's subscriptions.

    The consumer provides ``queue``, ``operations`` (id -> SubscriptionPlan),
    ``identity_key``, ``schema``, ``scope``, ``send`` and ``close``. Events
    that reach the process but not a subscriber (it fell behind, or running
    its subscription failed) are logged and counted in ``undelivered``.
    """

    _overflowed = False
    # undelivered: events of this process that a subscriber never got.
    undelivered = 0

    def overflow(self) -> None:
        """Disconnect a client too slow to take its events (logged once)."""
        if self._overflowed:
            return
        self._overflowed = True
        SubscriptionDelivery.undelivered += self.queue.qsize()
        logger.warning(
            "GraphQL subscriber on %s dropped: %d events waiting; it reads too slowly",
            self.scope.get("path"),
            self.queue.qsize(),
        )
        asyncio.ensure_future(self.close(1013, "Too slow to take the events"))

    async def _deliver_events(self) -> None:
        """Send the hub's events to this socket, in order."""
        while True:
            message = await self.queue.get()
            try:
                await self.deliver(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                SubscriptionDelivery.undelivered += 1
                logger.exception(
                    "GraphQL event delivery failed (%d undelivered since start)",
                    SubscriptionDelivery.undelivered,
                )

    async def deliver(self, message: dict) -> None:
        """Send ``next`` to every subscription following the message's event."""
        for subscription in list(self.operations.values()):
            if subscription is None or subscription.event != message["event"]:
                continue
            entity = subscription.entity
            if not entity.hooks.allows_row(entity.info, message["row"], None):
                continue
            answer = await payloads().get(
                (message["id"], self.identity_key, *subscription.key),
                lambda s=subscription: self._execute(s, message["row"]),
            )
            if subscription.id in self.operations:
                await self.send(
                    text_data=(
                        f'{{"id":{orjson.dumps(subscription.id).decode()},'
                        f'"type":"next","payload":{answer}}}'
                    )
                )

    async def _execute(self, subscription: SubscriptionPlan, row: dict) -> str:
        """Return the JSON text of one subscription's answer to an event."""
        schema = self.schema.graphql_schema
        if subscription.reads_database:
            result = await in_thread(run)(schema, subscription, row, self._context())
        else:
            result = run(schema, subscription, row, self._context())
        return orjson.dumps(formatted_result(result)).decode()
