"""The platform's own pages: /_joule/*, and the composed API of all services.

GET /_joule/health  -> 200 {"status": "ok"}          (the process answers)
GET /_joule/ready   -> 200 or 503 {"ready": ..., "services": {...}}
GET /_joule/        -> HTML: services, kinds, prefixes, links
GET /openapi.json   -> every service's OpenAPI, merged (gateway.compose)
GET /docs           -> Swagger UI over it
/graphql, /graphiql -> one GraphQL schema over the db services (and websockets)

The composed routes are served at the root and under each gateway service's
prefix: ``composed_patterns(prefix)``, ``composed_websocket_patterns()``.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from django.http import JsonResponse
from django.shortcuts import render
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView
from rest_framework.response import Response

import platform_core
from platform_core import exceptions as errors
from platform_core.exceptions import ConfigError
from platform_core.graphql.views import LimitedGraphQLView
from platform_core.registry import kinds, services

logger = logging.getLogger("joule.gateway")


# Seconds the readiness checks may take, all run side by side: a database
# that does not answer in time is reported not ready, and the probe answered.
READY_TIMEOUT = 2.0


class ReadinessChecks:
    """The services' readiness checks, run side by side with a deadline.

    Each check runs in a thread of its own pool; one still running from an
    earlier probe (a frozen database) is waited on again, never doubled, so
    a stuck service holds one thread however often the probe asks::

        results = readiness.check(list(services), timeout=2.0)
        results["orders"]   # (False, "no answer within 2 s")
    """

    def __init__(self, threads: int = 8) -> None:
        self.threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._running: dict[str, Future] = {}
        self._lock = threading.Lock()

    def check(self, specs: list, timeout: float) -> dict[str, tuple[bool, str]]:
        """Return (ready, detail) by service id, within ``timeout`` seconds."""
        futures = {spec.id: self._start(spec) for spec in specs}
        wait(list(futures.values()), timeout=timeout)
        return {
            service_id: _outcome(future, timeout)
            for service_id, future in futures.items()
        }

    def _start(self, spec) -> Future:
        with self._lock:
            running = self._running.get(spec.id)
            if running is not None and not running.done():
                return running
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    self.threads, thread_name_prefix="joule-ready"
                )
            future = self._pool.submit(_check_ready, spec)
            self._running[spec.id] = future
            return future


def _check_ready(spec) -> tuple[bool, str]:
    """Run ``spec``'s check; its database connections are closed after it."""
    from django.db import connections

    try:
        return kinds.get(spec.kind).check_ready(spec)
    finally:
        connections.close_all()


def _outcome(future: Future, timeout: float) -> tuple[bool, str]:
    if not future.done():
        return False, f"no answer within {timeout:g} s"
    try:
        return future.result()
    except Exception as exc:  # a kind's bug: reported, not a 500
        logger.exception("readiness check failed")
        return False, f"the check failed: {exc.__class__.__name__}"


readiness = ReadinessChecks()


def service_states() -> list[dict]:
    """Return each service's id, kind, prefix, readiness and links.

    Checks run side by side; one that takes over READY_TIMEOUT is not ready.
    """
    states = []
    specs = list(services)
    results = readiness.check(specs, READY_TIMEOUT)
    for spec in specs:
        kind = kinds.get(spec.kind)
        ready, detail = results[spec.id]
        states.append(
            {
                "id": spec.id,
                "kind": spec.kind,
                "prefix": spec.prefix,
                "ready": ready,
                "detail": detail,
                "entrypoint": spec is services.entrypoint,
                "links": kind.links(spec),
            }
        )
    return states


@csrf_exempt  # read-only: a POST gets 405, not a CSRF page
@require_safe
def health(request):
    """Answer 200 while the process serves requests."""
    return JsonResponse({"status": "ok"})


@csrf_exempt  # read-only: a POST gets 405, not a CSRF page
@require_safe
def ready(request):
    """Answer 200 when every service is ready, else 503 naming the others."""
    states = service_states()
    all_ready = all(state["ready"] for state in states)
    body = {
        "ready": all_ready,
        "services": {
            s["id"]: {"ready": s["ready"], "detail": s["detail"]} for s in states
        },
    }
    return JsonResponse(body, status=200 if all_ready else 503)


@csrf_exempt  # read-only: a POST gets 405, not a CSRF page
@require_safe
def dashboard(request):
    """Render the dashboard listing every service."""
    return render(
        request,
        "joule/dashboard.html",
        {"services": service_states(), "version": platform_core.__version__},
    )


# the composed API


class ComposedOpenAPIView(SpectacularJSONAPIView):
    """The merged OpenAPI document, negotiated like a service's own."""

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        """Answer the composed document."""
        return super().get(request, *args, **kwargs)

    def _get_schema_response(self, request):
        from platform_core.gateway.compose import composed_openapi

        return Response(composed_openapi())


def composed_graphql_schema() -> Any:
    """Return the composed GraphQL schema of the registered db services.

    Raise LookupError when there is no db service to compose.
    """
    from platform_core.graphql.root import composed_schema

    if not any(spec.kind == "db" for spec in services):
        raise LookupError("There is no db service to compose a GraphQL schema from")
    return composed_schema(services)


class ComposedGraphQLView(LimitedGraphQLView):
    """The GraphQL view over the composed schema, as it is at each request.

    The schema is rebuilt when a db service's tables change. No db service
    answers 404; a schema that cannot be built, 503.
    """

    def __init__(self, **kwargs: Any) -> None:
        self.unavailable = None
        try:
            schema = composed_graphql_schema()
        except LookupError as exc:
            schema, self.unavailable = _placeholder_schema(), (404, str(exc))
        except Exception as exc:  # a database down, names colliding
            logger.exception("The composed GraphQL schema is unavailable")
            message = "The composed GraphQL schema is unavailable; retry later"
            if isinstance(exc, ConfigError):  # the user's to fix: say what
                message = f"The composed GraphQL schema is unavailable: {exc}"
            schema, self.unavailable = _placeholder_schema(), (503, message)
        super().__init__(schema=schema, **kwargs)

    def dispatch(self, request, *args, **kwargs):
        """Answer the JSON error when there is no schema, else the query."""
        if self.unavailable is not None:
            return errors.error_response(*self.unavailable)
        return super().dispatch(request, *args, **kwargs)


_placeholder: list = []


def _placeholder_schema() -> Any:
    """Return a one-field schema standing in while the real one is missing."""
    import graphene

    if not _placeholder:
        query = type("Query", (graphene.ObjectType,), {"ok": graphene.Boolean()})
        _placeholder.append(graphene.Schema(query=query))
    return _placeholder[0]


def composed_patterns(prefix: str) -> list:
    """Return the routes of the composed API, for a URLconf mounted at ``prefix``."""
    from platform_core.config import get_config
    from platform_core.graphql.limits import validation_rules

    limits = get_config().graphql
    common = {
        "validation_rules": validation_rules(limits),
        "max_query_size": limits.max_query_size,
    }
    # Token-authenticated API: CSRF protects cookie-based form posts only.
    api = csrf_exempt(ComposedGraphQLView.as_view(graphiql=False, **common))
    ide = csrf_exempt(ComposedGraphQLView.as_view(graphiql=True, **common))
    docs = SpectacularSwaggerView.as_view(url=f"{prefix}/openapi.json")
    return [
        re_path(r"^openapi\.json/?$", ComposedOpenAPIView.as_view(), name="openapi"),
        re_path(r"^docs/?$", docs, name="docs"),
        re_path(r"^graphql/?$", api, name="graphql"),
        re_path(r"^graphiql/?$", ide, name="graphiql"),
    ]


def composed_websocket_patterns() -> list:
    """Return the websocket route of the composed GraphQL schema (subscriptions)."""
    from platform_core.graphql.consumers import GraphQLTransportWSConsumer

    consumer = GraphQLTransportWSConsumer.as_asgi(schema=composed_graphql_schema)
    return [re_path(r"^graphql/?$", consumer, name="graphql-ws")]
