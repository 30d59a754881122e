"""The generated API's busiest routes, answered without Django's request cycle.

Reads of lists, rows and relations and inserts are most of a db service's
traffic. ``FastRoutes`` sits in front of the Django application: it resolves
the path against the service's own URLconf (a service's urls.py still wins)
and, when the match is a generated view, calls that view's method in a
thread with a light request. That skips the WSGI bridge, eleven middleware
and DRF's dispatch; the answer carries the same envelope as Django's
(``observability.envelope``: security headers, X-Request-Id, access log).
Errors are answered by the same functions as the middleware's (APIError as
is, a lost database 503, anything else 500).

Where the view runs: SQLite reads run on the event loop's own thread, with
the loop set aside for the call so Django treats it as the synchronous code
it is. In WAL mode a read never waits for a lock and takes microseconds
(better-sqlite3 serves Platformatic the same way); a thread hop would cost
more than the query. An SQLite write runs there too, once the loop has
awaited the database's write lock (``turns.py``); a GraphQL mutation with
several root fields (several transactions) goes to one writer thread per
process instead. Other databases use a pool of threads per database, each
thread with its own connection: a database that stops answering uses up
its own threads only, and a request waiting longer than the database's
timeouts allow (``Timeouts.request``) is answered 504.

Everything else goes to Django unchanged: other methods, other views,
entities whose hooks scope rows (the authorization plug-in gets Django's
full request) and POSTs with an ``Idempotency-Key`` (``rest.idempotency``
may wait for another request's answer). A row's ETag and ``If-None-Match``
are answered here too, by the same view::

    application = FastRoutes(django_asgi_app, urlconf_for)
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import connections
from django.urls import Resolver404, get_resolver

from platform_core import exceptions as errors
from platform_core.db.connections import alias_for, timeouts_of
from platform_core.exceptions import APIError
from platform_core.fastpath.graphql import answer_known, known_request
from platform_core.fastpath.requests import FastRequest
from platform_core.fastpath.targets import (
    allow,
    fast_methods,
    on_sqlite,
)
from platform_core.fastpath.turns import off_loop, write_in_turn
from platform_core.graphql.views import LimitedGraphQLView
from platform_core.observability.context import request_context
from platform_core.observability.envelope import (
    check_middleware,
    needs_redirect,
    request_id_header,
    security_headers,
)
from platform_core.observability.logs import log_request
from platform_core.registry import ROUTE_KEY, ServiceRegistry, services

logger = logging.getLogger("joule.rest")

# What _bounded() returns for work that took longer than its database allows.
STALLED = object()
MAX_TARGETS = 4096  # paths whose resolution is kept (then all are forgotten)


class FastRoutes:
    """ASGI app: generated reads and inserts here, everything else to ``app``."""

    def __init__(
        self,
        app: Any,
        urlconf_for: Callable[[Any], Any],
        registry: ServiceRegistry = services,
        threads: int = 8,
    ) -> None:
        """Serve in front of ``app``; ``urlconf_for(spec)`` is a service's
        URLconf (the router's), resolved here as Django would.

        Raise ConfigError when ``MIDDLEWARE`` holds an entry whose effect
        the fast path does not reproduce (``envelope.check_middleware``).
        """
        check_middleware(settings.MIDDLEWARE)
        security_headers.cache_clear()  # settings may differ from the last app's
        self.app = app
        self.urlconf_for = urlconf_for
        self.registry = registry
        # pools: database alias -> its own threads (``threads`` of them).
        self.threads = threads
        self.pools: dict[str, ThreadPoolExecutor] = {}
        self._pools_lock = threading.Lock()
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="joule-sqlite-writer")
        self._targets: dict[tuple[str, str, str], tuple] = {}

    def close(self) -> None:
        """Stop the threads; their database connections close with them."""
        for pool in list(self.pools.values()):
            pool.shutdown(wait=True)
        self.writer.shutdown(wait=True)

    def pool_for(self, alias: str) -> ThreadPoolExecutor:
        """Return the threads of database ``alias`` (made on first use)."""
        pool = self.pools.get(alias)
        if pool is None:
            with self._pools_lock:
                pool = self.pools.get(alias)
                if pool is None:
                    pool = self.pools[alias] = ThreadPoolExecutor(
                        self.threads, thread_name_prefix=f"joule-db-{alias}"
                    )
        return pool

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        target = self.target(scope) if scope["type"] == "http" else None
        if target is None:
            return await self.app(scope, receive, send)
        route, view_class, kwargs = target
        headers = {
            k.decode("latin1").lower(): v.decode("latin1")
            for k, v in scope.get("headers", ())
        }
        write = scope["method"] != "GET"
        if write and "idempotency-key" in headers:
            # Django's path: the key's claim may wait for another request.
            return await self.app(scope, receive, send)
        body = await self._read_body(receive, headers) if write else b""
        if view_class is LimitedGraphQLView:
            return await self.graphql(
                route, kwargs, headers, body, scope, receive, send
            )
        started = time.perf_counter()
        with request_context(route.spec.id, headers) as context:
            request = FastRequest(scope, headers, body)
            answer = None
            if on_sqlite(view_class) and write:
                alias = view_class.entity.alias
                serve = self.serve
                answer = await write_in_turn(alias, serve, view_class, request, kwargs)
            elif on_sqlite(view_class):
                answer = off_loop(self.serve, view_class, request, kwargs)
            if answer is None:
                answer = await self._in_thread(view_class, request, kwargs)
            status, extra, content = answer
            await self._send(send, status, extra, content, context.request_id)
            log_request(scope["method"], scope["path"], status, started)

    async def graphql(
        self, route, view_kwargs, headers, body, scope, receive, send
    ) -> None:
        """Answer a valid GraphQL query or mutation here; the rest goes to Django."""
        started = time.perf_counter()
        alias = alias_for(route.spec)
        with request_context(route.spec.id, headers) as context:
            answer = None
            if body is None:
                response = errors.error_response(413, "The body is too large")
                answer = response.status_code, response.content
            elif headers.get("content-type", "").startswith("application/json"):
                known = known_request(view_kwargs, body)
                if known is not None:
                    answer = await self._graphql_answer(alias, known)
            if answer is not None:
                status, content = answer
                extra = [(b"content-type", b"application/json")]
                await self._send(send, status, extra, content, context.request_id)
                log_request(scope["method"], scope["path"], status, started)
                return
        await self.app(scope, _replay(body, receive), send)

    async def _in_thread(self, view_class, request, kwargs) -> tuple:
        """Serve in the SQLite writer thread or the database's pool.

        Past the database's request time, answer 504 (the work is dropped
        if it has not started yet).
        """
        alias = view_class.entity.alias
        executor = self.writer if on_sqlite(view_class) else self.pool_for(alias)
        answer = await _bounded(
            executor, alias, self.serve, view_class, request, kwargs
        )
        if answer is STALLED:
            response = _stalled(alias)
            extra = [(k.lower().encode(), str(v).encode()) for k, v in response.items()]
            return response.status_code, extra, response.content
        return answer

    async def _graphql_answer(self, alias: str, known) -> tuple | None:
        """Run a valid operation where the REST fast path runs its like."""
        serve = functools.partial(_graphql_answer, alias, known)
        sqlite = _sqlite_alias(alias)
        if sqlite and not known.mutation:
            return off_loop(serve)
        if sqlite and known.one_transaction:
            answer = await write_in_turn(alias, serve)
            if answer is not None:
                return answer
        executor = self.writer if sqlite else self.pool_for(alias)
        answer = await _bounded(executor, alias, serve)
        if answer is STALLED:
            response = _stalled(alias)
            return response.status_code, response.content
        return answer

    def target(self, scope: dict) -> tuple | None:
        """Return (route, view class, kwargs) when the fast path serves ``scope``.

        Answers are kept per path and method while the service's URLconf
        stays the same (a list or a row asked again resolves nothing).
        """
        if needs_redirect(scope):
            return None  # Django's SecurityMiddleware redirects it to https
        path = scope["path"].removeprefix(scope.get("root_path", ""))
        route = scope.get(ROUTE_KEY) or self.registry.match(path)
        if route is None or route.spec.kind != "db":
            return None
        patterns = self.urlconf_for(route.spec).__dict__.get("urlpatterns")
        if patterns is None:
            # Not built yet (start-up, or the schema changed): building reads
            # the database, which Django does in its own thread.
            return None
        key = (path, scope["method"], route.prefix)  # a pinned route: no prefix
        kept = self._targets.get(key)
        if kept is not None and kept[0] is route.spec and kept[1] is patterns:
            return kept[2]
        found = self._resolve(route, path, scope)
        if len(self._targets) >= MAX_TARGETS:
            self._targets.clear()
        self._targets[key] = (route.spec, patterns, found)
        return found

    def _resolve(self, route, path: str, scope: dict) -> tuple | None:
        urlconf = self.urlconf_for(route.spec)
        try:
            match = get_resolver(urlconf).resolve(path[len(route.prefix) :] or "/")
        except Resolver404:
            return None
        view_class = getattr(match.func, "view_class", None)
        if view_class is LimitedGraphQLView:
            kwargs = match.func.view_initkwargs
            if scope["method"] != "POST" or kwargs.get("graphiql"):
                return None
            if route.spec.options.authorization is not None:
                return None  # rules need Django's request and session
            return route, view_class, kwargs
        if scope["method"] not in fast_methods(view_class):
            return None
        return route, view_class, match.kwargs

    async def _read_body(self, receive: Callable, headers: dict) -> bytes | None:
        """Return the body; None when it is over Django's limit (the view: 413).

        A Content-Length over the limit is answered at once, unread: a client
        that declares a large body and sends little would hold the request.
        """
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        declared = headers.get("content-length", "")
        if limit is not None and declared.isdigit() and int(declared) > limit:
            return None
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return b""
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if limit is not None and size > limit:
                return None
            if not message.get("more_body"):
                return b"".join(chunks)

    def serve(self, view_class: type, request: FastRequest, kwargs: dict) -> tuple:
        """Call the view method in this thread; return (status, headers, body)."""
        view = view_class()
        view.setup(request, **kwargs)
        view.headers, view.format_kwarg = {}, None
        alias = view.get_entity().alias
        connections[alias].close_if_unusable_or_obsolete()
        handler = getattr(view, request.method.lower())
        try:
            response = handler(request, **kwargs)
        except APIError as exc:
            response = errors.exception_handler(exc, None)
        except Exception as exc:  # answered as Django's middleware would
            response = errors.exception_response(exc)
            if response is None:
                logger.exception("error on %s %s", request.method, request.path)
                response = errors.error_response(500, "Internal server error")
        finally:
            connections[alias].close_if_unusable_or_obsolete()
        extra = [(k.lower().encode(), str(v).encode()) for k, v in response.items()]
        extra.append((b"allow", allow(view_class)))
        return response.status_code, extra, response.content

    async def _send(self, send, status, extra, content, request_id: str) -> None:
        headers = [
            *extra,
            *security_headers(),
            (b"content-length", str(len(content)).encode()),
            request_id_header(request_id),
        ]
        await send(
            {"type": "http.response.start", "status": status, "headers": headers}
        )
        await send({"type": "http.response.body", "body": content})


def _graphql_answer(alias: str, known):
    """Answer a valid operation (``answer_known``) with the connection checked."""
    connections[alias].close_if_unusable_or_obsolete()
    try:
        return answer_known(known)
    finally:
        connections[alias].close_if_unusable_or_obsolete()


async def _bounded(executor, alias: str, function: Callable, *args) -> Any:
    """Return ``function(*args)`` run in ``executor`` in this context.

    Return STALLED when it takes longer than database ``alias`` allows; work
    still queued is then cancelled, work running ends by its own timeouts.
    """
    run = contextvars.copy_context().run
    future = asyncio.get_running_loop().run_in_executor(executor, run, function, *args)
    try:
        return await asyncio.wait_for(future, timeouts_of(alias).request)
    except TimeoutError:
        return STALLED


def _stalled(alias: str):
    """Return the 504 of a request that waited too long for database ``alias``."""
    limit = timeouts_of(alias).request
    logger.warning("database %s: no answer within %g s", alias, limit)
    return errors.error_response(
        504, f"The database did not answer within {limit:g} s; retry later"
    )


def _sqlite_alias(alias: str) -> bool:
    return connections.settings[alias]["ENGINE"].endswith("sqlite3")


def _replay(body: bytes, receive: Callable) -> Callable:
    """Return a receive() giving Django the body the fast path already read."""
    sent = False

    async def replay() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # then what the server says (a disconnect)

    return replay
