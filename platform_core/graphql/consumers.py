"""GraphQL over websockets at ``/<prefix>/graphql``: the graphql-transport-ws protocol.

A Channels consumer speaking the protocol of the ``graphql-ws`` client:
``connection_init`` → ``connection_ack``, ``ping``/``pong``, ``subscribe`` →
``next``… ``complete`` (or ``error``), and the client's ``complete``. It
closes with the protocol's codes: 4400 invalid message, 4401 subscribe
before the ack, 4403 refused by ``authorize``, 4406 wrong subprotocol, 4408
no ``connection_init`` in time, 4409 duplicate id, 4429 a second init, 4500
schema unavailable. Subscriptions join the channel-layer group of their
event (``events.layer``); queries and mutations are answered once::

    re_path(r"^graphql/?$", GraphQLTransportWSConsumer.as_asgi(schema=get_schema))
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import graphene
import orjson
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from graphql import (
    GraphQLError,
    OperationType,
    parse,
)
from graphql.execution import ExecutionContext
from graphql.execution.collect_fields import collect_fields

from platform_core.authorization.identity import Credentials, current
from platform_core.config import get_config
from platform_core.events.layer import EventHub, group_name, publisher
from platform_core.exceptions import APIError
from platform_core.graphql.documents import validate_document
from platform_core.graphql.execution import formatted_result, run_document
from platform_core.graphql.limits import validation_rules
from platform_core.graphql.subscriptions import (
    SubscriptionDelivery,
    SubscriptionPlan,
    in_thread,
    plan,
)

logger = logging.getLogger("joule.graphql")
PROTOCOL = "graphql-transport-ws"
# Events a socket may have waiting; a client further behind is disconnected.
EVENT_BACKLOG = 10_000


class ProtocolError(Exception):
    """The client broke the protocol: close the socket with ``code``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _invalid(reason: str = "Invalid message received") -> ProtocolError:
    return ProtocolError(4400, reason)


def same_origin(headers: dict[str, str]) -> bool:
    """Return whether a handshake's ``Origin`` is its ``Host`` (or absent).

    Browsers send ``Origin`` on every websocket handshake, with the cookies
    of the target site whatever page opened it; other clients send none.
    """
    origin = headers.get("origin")
    if origin is None:
        return True
    host = urlsplit(origin).netloc
    return bool(host) and host.lower() == headers.get("host", "").lower()


class GraphQLTransportWSConsumer(SubscriptionDelivery, AsyncWebsocketConsumer):
    """Serve one service's GraphQL schema over a websocket.

    ``schema`` is a callable returning the service's graphene schema (run in
    a thread: it may read the database). Override ``authorize`` to check the
    ``connection_init`` payload.
    """

    init_timeout = 3.0
    # No channel of its own: events come from the loop's EventHub, which
    # holds the only channel-layer membership of the process.
    channel_layer_alias = None

    def __init__(
        self, *args: Any, schema: Callable[[], graphene.Schema], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.get_schema = schema
        self.schema: graphene.Schema | None = None
        self.init_received = False
        self.acknowledged = False
        self.connection_params: dict = {}
        self.operations: dict[str, SubscriptionPlan | None] = {}
        self.groups_joined: dict[str, int] = {}
        # queue: events for this socket's subscriptions, filled by the hub.
        self.queue: asyncio.Queue = asyncio.Queue(maxsize=EVENT_BACKLOG)
        self._delivery: asyncio.Task | None = None
        self._overflowed = False
        self._init_timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task] = set()
        self.credentials: Credentials | None = None
        # identity_key: equal keys see the same rows (shared event answers).
        self.identity_key: tuple | None = None

    async def dispatch(self, message: dict) -> None:
        """Handle a message without Channels' per-message connection cleanup.

        Channels closes stale database connections before every message, a
        hop to its shared sync thread; this consumer touches the database
        only through ``database_sync_to_async``, which does that cleanup
        itself, so events reach 100 subscribers without 100 hops.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # connection

    async def connect(self) -> None:
        """Accept the protocol, or close with 4406 / 4500."""
        if PROTOCOL not in self.scope.get("subprotocols", ()):
            await self.accept()
            await self.close(4406, "Subprotocol not acceptable")
            return
        await self.accept(PROTOCOL)
        try:
            self.schema = await in_thread(self.get_schema)()
        except Exception:
            logger.exception("GraphQL schema unavailable for %s", self.scope["path"])
            await self.close(4500, "The GraphQL schema is unavailable; retry later")
            return
        publisher.attach(asyncio.get_running_loop())
        self._init_timer = asyncio.get_running_loop().call_later(
            self.init_timeout, lambda: asyncio.ensure_future(self._init_timed_out())
        )

    async def _init_timed_out(self) -> None:
        if not self.init_received:
            await self.close(4408, "Connection initialisation timeout")

    async def disconnect(self, code: int) -> None:
        """Leave every group and forget the operations."""
        if self._init_timer is not None:
            self._init_timer.cancel()
        hub = EventHub.of_loop()
        for group in list(self.groups_joined):
            await hub.leave(group, self)
        self.groups_joined.clear()
        if self._delivery is not None:
            self._delivery.cancel()
        self.operations.clear()

    async def authorize(self, params: dict) -> bool:
        """Return whether a client with this ``connection_init`` payload may stay.

        The payload's credentials (``{"Authorization": "Bearer ..."}``, or the
        same under ``"headers"``) join the handshake's headers and session;
        the service's rules then apply to every operation and event. Bad
        credentials (401) refuse the connection. The handshake's cookies and
        session user count only when its ``Origin`` is the same site
        (``same_origin``): no page of another site acts as the user.
        """
        headers = {
            key.decode("latin-1"): value.decode("latin-1")
            for key, value in self.scope.get("headers", ())
        }
        user = self.scope.get("user")
        if not same_origin(headers):
            # A page of another site opened the socket and the browser sent
            # the user's cookies along: only the payload's credentials count.
            headers.pop("cookie", None)
            user = None
        for source in (params, params.get("headers")):
            if isinstance(source, dict):
                headers.update({k: v for k, v in source.items() if isinstance(v, str)})
        self.credentials = Credentials(headers, user)
        current.set(self.credentials)
        try:
            self.identity_key = await in_thread(self._identify)()
        except APIError as exc:
            logger.info("GraphQL websocket refused: %s", exc.message)
            return False
        return True

    def _identify(self) -> tuple | None:
        """Resolve the caller once under each rule set of the schema."""
        keys = []
        for _, entity in self.schema.subscription_sources.values():
            identity = getattr(entity.hooks, "identity", None)
            if identity is not None:
                keys.append(identity(self.credentials).key)
        return tuple(keys) or None

    # client messages

    async def receive(self, text_data: str | None = None, bytes_data=None) -> None:
        """Handle one protocol message; close the socket when it is invalid."""
        try:
            await self._handle(self._message(text_data))
        except ProtocolError as exc:
            await self.close(exc.code, exc.reason)

    def _message(self, text: str | None) -> dict:
        if text is None:
            raise _invalid("Messages must be text")
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise _invalid("Message is not JSON") from None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise _invalid('Message needs a "type"')
        return message

    async def _handle(self, message: dict) -> None:
        kind = message["type"]
        if kind == "connection_init":
            await self._init(message.get("payload"))
        elif kind == "ping":
            await self._send({"type": "pong"})
        elif kind == "pong":
            return
        elif kind == "subscribe":
            await self._subscribe(message)
        elif kind == "complete":
            await self._complete(message)
        else:
            raise _invalid(f'Unknown message type "{kind}"')

    async def _init(self, payload: Any) -> None:
        if self.init_received:
            raise ProtocolError(4429, "Too many initialisation requests")
        self.init_received = True
        if payload is not None and not isinstance(payload, dict):
            raise _invalid("connection_init payload must be an object")
        self.connection_params = payload or {}
        if not await self.authorize(self.connection_params):
            raise ProtocolError(4403, "Forbidden")
        self.acknowledged = True
        await self._send({"type": "connection_ack"})

    async def _subscribe(self, message: dict) -> None:
        if not self.acknowledged:
            raise ProtocolError(4401, "Unauthorized")
        operation_id, payload = message.get("id"), message.get("payload")
        if not isinstance(operation_id, str) or not operation_id:
            raise _invalid('subscribe needs a string "id"')
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            raise _invalid('subscribe needs a payload with a "query" string')
        if not isinstance(payload.get("variables") or {}, dict) or not isinstance(
            payload.get("operationName") or "", str
        ):
            raise _invalid("variables must be an object, operationName a string")
        if operation_id in self.operations:
            raise ProtocolError(4409, f"Subscriber for {operation_id} already exists")
        self.operations[operation_id] = None
        errors = await self._start(operation_id, payload)
        if errors:
            self.operations.pop(operation_id, None)
            await self._send({"id": operation_id, "type": "error", "payload": errors})

    async def _complete(self, message: dict) -> None:
        operation_id = message.get("id")
        if not isinstance(operation_id, str):
            raise _invalid('complete needs a string "id"')
        subscription = self.operations.pop(operation_id, None)
        if subscription is not None:
            await self._leave(group_name(subscription.event))

    # operations

    async def _start(self, operation_id: str, payload: dict) -> list[dict]:
        """Start an operation; return the errors that refuse it."""
        limits = get_config().graphql
        query = payload["query"]
        if len(query) > limits.max_query_size:
            return [
                {
                    "message": f"The query is longer than {limits.max_query_size} "
                    "characters"
                }
            ]
        try:
            document = parse(query)
        except GraphQLError as exc:
            return [exc.formatted]
        schema = self.schema.graphql_schema
        errors = validate_document(schema, document, validation_rules(limits))
        if errors:
            return [error.formatted for error in errors]
        context = ExecutionContext.build(
            schema,
            document,
            raw_variable_values=payload.get("variables"),
            operation_name=payload.get("operationName"),
        )
        if isinstance(context, list):
            return [error.formatted for error in context]
        if context.operation.operation != OperationType.SUBSCRIPTION:
            task = asyncio.ensure_future(
                self._answer_once(operation_id, document, payload)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return []
        fields = collect_fields(
            schema,
            context.fragments,
            context.variable_values,
            schema.subscription_type,
            context.operation.selection_set,
        )
        root = next(iter(fields.values()))[0]
        try:
            subscription = await in_thread(plan)(
                operation_id, self.schema, document, root, context.fragments, payload
            )
        except APIError as exc:
            return [GraphQLError(exc.message, extensions=exc.extensions).formatted]
        self.operations[operation_id] = subscription
        await self._join(group_name(subscription.event))
        return []

    async def _answer_once(self, operation_id: str, document, payload: dict) -> None:
        """Run a query or mutation in a thread; send ``next`` and ``complete``."""
        result = await in_thread(run_document)(
            self.schema,
            document,
            payload.get("variables"),
            payload.get("operationName"),
            context_value=self._context(),
        )
        if self.operations.pop(operation_id, "gone") is None:
            await self._send(
                {
                    "id": operation_id,
                    "type": "next",
                    "payload": formatted_result(result),
                }
            )
            await self._send({"id": operation_id, "type": "complete"})

    def _context(self) -> Any:
        return None

    async def _join(self, group: str) -> None:
        if not self.groups_joined.get(group):
            await EventHub.of_loop().join(group, self)
        self.groups_joined[group] = self.groups_joined.get(group, 0) + 1
        if self._delivery is None:
            self._delivery = asyncio.ensure_future(self._deliver_events())

    async def _leave(self, group: str) -> None:
        self.groups_joined[group] -= 1
        if not self.groups_joined[group]:
            del self.groups_joined[group]
            await EventHub.of_loop().leave(group, self)

    async def _send(self, message: dict) -> None:
        await self.send(text_data=orjson.dumps(message).decode())
