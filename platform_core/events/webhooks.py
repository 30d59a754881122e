"""Outgoing webhooks: POST each entity event to the URLs configured for it.

Deliveries leave the write alone: the event is queued and sent from worker
threads; a failed attempt (no answer, or a status other than 2xx) is logged
and retried with exponential backoff, and the last failure is logged as an
error. In ``services/<id>/service.toml`` of a db service::

    [[webhooks]]
    entity = "product"              # or "*" for every entity
    url = "http://127.0.0.1:9000/hooks/products"
    events = ["saved", "deleted"]   # the default
    secret = "{HOOK_SECRET}"        # optional: signs the body (X-JOULE-SIGNATURE)
    retries = 5                     # attempts after the first
    backoff = 0.5                   # seconds before the first retry, then doubled
    timeout = 5.0                   # seconds per attempt

The body is ``{"event", "service", "entity", "action", "row"}`` as JSON;
``X-JOULE-DELIVERY`` stays the same across the retries of one event.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import orjson

from platform_core.config.services import Webhook
from platform_core.entities.values import json_default

logger = logging.getLogger("joule.webhooks")
MAX_BACKOFF = 60.0


@dataclass
class Delivery:
    """One event on its way to one webhook."""

    hook: Webhook
    body: bytes
    headers: dict[str, str]
    attempt: int = 0


class WebhookSender:
    """Queue deliveries and send them from worker threads, with retries."""

    def __init__(self, workers: int = 4) -> None:
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="joule-webhook")
        self._client = httpx.Client(follow_redirects=False)
        self._due: list[tuple[float, int, Delivery]] = []
        self._count = 0
        self._wake = threading.Condition()
        self._scheduler: threading.Thread | None = None
        self._active = 0  # deliveries queued or being attempted now

    def send(self, hook: Webhook, event: str, row: dict) -> None:
        """Queue ``event`` with ``row`` for ``hook``; return at once."""
        service, entity, action = event.rsplit(".", 2)
        body = orjson.dumps(
            {
                "event": event,
                "service": service,
                "entity": entity,
                "action": action,
                "row": row,
            },
            default=json_default,
        )
        headers = {
            "Content-Type": "application/json",
            "X-JOULE-EVENT": event,
            "X-JOULE-DELIVERY": uuid.uuid4().hex,
        }
        if hook.secret:
            digest = hmac.new(hook.secret.encode(), body, hashlib.sha256).hexdigest()
            headers["X-JOULE-SIGNATURE"] = f"sha256={digest}"
        self._submit(Delivery(hook, body, headers))

    def _submit(self, delivery: Delivery) -> None:
        with self._wake:
            self._active += 1
        self._pool.submit(self._attempt_counted, delivery)

    def _attempt_counted(self, delivery: Delivery) -> None:
        try:
            self._attempt(delivery)
        finally:
            with self._wake:
                self._active -= 1
                self._wake.notify_all()

    def drain(self, timeout: float) -> int:
        """Send what is queued and the retries due within ``timeout`` seconds.

        Called at shutdown. Deliveries still waiting after it (a retry due
        later, an attempt still running) are logged one by one, never
        dropped silently; return how many there were.
        """
        deadline = time.monotonic() + timeout
        with self._wake:
            while self._active or (self._due and self._due[0][0] <= deadline):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._wake.wait(min(left, 0.05))
            dropped = [delivery for _, _, delivery in self._due]
            self._due.clear()
            running = self._active
        for delivery in dropped:
            logger.error(
                "webhook %s: %s not delivered (shutdown before attempt %d)",
                delivery.hook.url,
                delivery.headers["X-JOULE-EVENT"],
                delivery.attempt + 1,
            )
        if running:
            logger.error(
                "webhooks: %d delivery(ies) still running at shutdown", running
            )
        return len(dropped) + running

    def _attempt(self, delivery: Delivery) -> None:
        hook = delivery.hook
        try:
            answer = self._client.post(
                hook.url,
                content=delivery.body,
                headers=delivery.headers,
                timeout=hook.timeout,
            )
            failure = None if answer.is_success else f"HTTP {answer.status_code}"
        except httpx.HTTPError as exc:
            failure = f"{exc.__class__.__name__}: {exc}"
        if failure is None:
            return
        event = delivery.headers["X-JOULE-EVENT"]
        if delivery.attempt >= hook.retries:
            logger.error(
                "webhook %s gave up on %s after %d attempts: %s",
                hook.url,
                event,
                delivery.attempt + 1,
                failure,
            )
            return
        delay = min(hook.backoff * 2**delivery.attempt, MAX_BACKOFF)
        logger.warning(
            "webhook %s failed for %s (attempt %d): %s; retrying in %.2fs",
            hook.url,
            event,
            delivery.attempt + 1,
            failure,
            delay,
        )
        delivery.attempt += 1
        self._later(delivery, delay)

    def _later(self, delivery: Delivery, delay: float) -> None:
        with self._wake:
            self._count += 1
            heapq.heappush(self._due, (time.monotonic() + delay, self._count, delivery))
            if self._scheduler is None:
                self._scheduler = threading.Thread(
                    target=self._schedule, name="joule-webhook-retries", daemon=True
                )
                self._scheduler.start()
            self._wake.notify()

    def _schedule(self) -> None:
        while True:
            with self._wake:
                while not self._due or self._due[0][0] > time.monotonic():
                    timeout = self._due[0][0] - time.monotonic() if self._due else None
                    self._wake.wait(timeout)
                _, _, delivery = heapq.heappop(self._due)
            self._submit(delivery)


class WebhookHandler:
    """The handler of every event that hands it to the service's webhooks."""

    def __init__(self, sender: WebhookSender | None = None) -> None:
        self._sender = sender
        self._lock = threading.Lock()

    def __call__(self, event: str, row: dict) -> None:
        """Queue ``event`` for every webhook of its service that wants it."""
        service, entity, action = event.rsplit(".", 2)
        for hook in hooks_of(service):
            if hook.wants(entity, action):
                self.sender().send(hook, event, row)

    def drain(self, timeout: float) -> int:
        """Deliver what is due within ``timeout`` seconds (shutdown); return
        how many deliveries were left undelivered (each one logged)."""
        with self._lock:
            sender = self._sender
        return sender.drain(timeout) if sender is not None else 0

    def sender(self) -> WebhookSender:
        """Return the sender, started on first use."""
        with self._lock:
            if self._sender is None:
                self._sender = WebhookSender()
            return self._sender


def hooks_of(service_id: str) -> tuple[Webhook, ...]:
    """Return the webhooks configured for db service ``service_id``."""
    from platform_core.registry import services

    if not services.is_registered(service_id):
        return ()
    spec = services.get(service_id)
    return spec.options.webhooks if spec.kind == "db" else ()


webhooks = WebhookHandler()
