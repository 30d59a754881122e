"""Build the platform's ASGI application: HTTP and websockets, every service.

``platform_core.asgi`` asks for this process's application once Django is
set up; the mesh asks for the same one::

    application = platform_application()
    # PlatformRouter(ProtocolTypeRouter({"http": Django,
    #                                    "websocket": Channels URLRouter}))
"""

from __future__ import annotations

import gc
import logging
import time
from typing import Any

from platform_core.registry import ServiceRegistry, kinds, services

logger = logging.getLogger("joule.asgi")
# Seconds a server start waits for the processes services run (frontends).
START_WAIT = 60.0
# Seconds a shutdown waits for webhook deliveries that are queued or due.
WEBHOOK_DRAIN = 5.0
_application: list = []


def websocket_urlpatterns(registry: ServiceRegistry = services) -> list:
    """Return every service's websocket patterns nested under its prefix."""
    from channels.routing import URLRouter
    from django.urls import path

    patterns = []
    ordered = sorted(registry, key=lambda spec: len(spec.prefix), reverse=True)
    for spec in ordered:
        own = kinds.get(spec.kind).websocket_urlpatterns(spec)
        if own:
            patterns.append(path(spec.prefix.lstrip("/") + "/", URLRouter(own)))
    from platform_core.gateway.views import composed_websocket_patterns

    # The composed GraphQL schema at /graphql, before the entrypoint's routes.
    patterns.extend(composed_websocket_patterns())
    entry = registry.entrypoint
    if entry is not None:
        patterns.extend(kinds.get(entry.kind).websocket_urlpatterns(entry))
    return patterns


def warm_up(registry: ServiceRegistry = services) -> None:
    """Build every URLconf now, in sync context, so requests need no database.

    A service whose database is down is logged and built on first use; a
    configuration mistake found while building (a rule or webhook naming an
    unknown entity or field) stops the start with its message.
    """
    from django.db import connections
    from django.urls import get_resolver

    from platform_core.db.catalog import migration_watch
    from platform_core.exceptions import ConfigError
    from platform_core.gateway.routing.urlconfs import urlconf_for

    for spec in registry:
        try:
            _ = urlconf_for(spec).urlpatterns
        except ConfigError:
            raise
        except Exception:
            logger.exception("%s: routes not built at start-up", spec.id)
    _ = get_resolver().url_patterns  # the admin registers db entities here
    connections.close_all()
    migration_watch.start()  # a `dbmigrate` from elsewhere: routes rebuilt


def start_services(registry: ServiceRegistry = services, wait: float = START_WAIT):
    """Start what every service runs beside the process; wait for it to be ready.

    Waiting stops after ``wait`` seconds; a service still not ready is
    logged and keeps starting in the background.
    """
    started = [spec for spec in registry if kinds.get(spec.kind).start(spec)]
    deadline = time.monotonic() + wait
    for spec in started:
        while not kinds.get(spec.kind).check_ready(spec)[0]:
            if time.monotonic() > deadline:
                logger.warning(
                    "%s: not ready after %.0f s: %s",
                    spec.id,
                    wait,
                    kinds.get(spec.kind).check_ready(spec)[1],
                )
                break
            time.sleep(0.05)


def stop_services(registry: ServiceRegistry = services) -> None:
    """Stop what ``start_services`` started."""
    for spec in registry:
        try:
            kinds.get(spec.kind).stop(spec)
        except Exception:
            logger.exception("%s: not stopped cleanly", spec.id)


def start_up(registry: ServiceRegistry = services) -> None:
    """Warm up the routes, then start the services' processes (lifespan)."""
    warm_up(registry)
    start_services(registry)
    settle_heap()


def shut_down(registry: ServiceRegistry = services) -> None:
    """Deliver the webhooks that are due, stop the services' processes; let
    the collector see everything again."""
    from platform_core.events.webhooks import webhooks

    webhooks.drain(WEBHOOK_DRAIN)
    stop_services(registry)
    gc.unfreeze()


def settle_heap() -> None:
    """Keep what start-up built out of the cyclic garbage collector's scans.

    Routes, schemas and models live as long as the process. Left to the
    collector, each of its full passes walks all of them again; under load
    such a pass took 50-80 ms and set the p99 latency of busy routes.
    ``gc.freeze()`` moves them to a generation it never scans.
    """
    gc.collect()
    gc.freeze()


def build_application() -> Any:
    """Return the ASGI application serving every service."""
    from a2wsgi import WSGIMiddleware
    from channels.auth import AuthMiddlewareStack
    from channels.routing import ProtocolTypeRouter, URLRouter
    from django.core.wsgi import get_wsgi_application

    # Django's HTTP side runs on a2wsgi's thread pool: per request this costs
    # far less than Django's ASGI handler (measured: ~4x the requests per
    # second under uvicorn workers), and each pool thread keeps its own
    # database connection. Websockets stay on Channels. The generated API's
    # reads and inserts skip Django's request cycle (fastpath). Django is set
    # up first: the modules below use its models.
    django_app = WSGIMiddleware(get_wsgi_application(), workers=16)

    from platform_core.fastpath.routes import FastRoutes
    from platform_core.gateway.routing.router import PlatformRouter
    from platform_core.gateway.routing.urlconfs import urlconf_for

    return PlatformRouter(
        FastRoutes(
            ProtocolTypeRouter(
                {
                    "http": django_app,
                    "websocket": AuthMiddlewareStack(
                        URLRouter(websocket_urlpatterns())
                    ),
                }
            ),
            urlconf_for,
        ),
        on_startup=start_up,
        on_shutdown=shut_down,
    )


def platform_application() -> Any:
    """Return this process's ASGI application, built on first use."""
    if not _application:
        _application.append(build_application())
    return _application[0]
