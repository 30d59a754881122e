"""The production worker: uvicorn's, writing each response in one piece.

uvicorn writes a response's head when the app sends ``http.response.start``
and its body on ``http.response.body``: two writes, so two TCP segments and
two system calls for every small response. ``Worker`` runs uvicorn with
``HttpProtocol``, whose transport keeps a first write until the end of the
event loop's turn and sends it together with the next one::

    gunicorn -k platform_core.runtime.server.Worker ...   (deploy/gunicorn.conf.py)

A streamed response still goes out as soon as the app yields to the loop:
nothing waits longer than the current turn.

A client has ``[server] header_timeout`` seconds (10 by default) to send a
request's headers, counted from connecting or from its previous answer;
past it, it gets a JSON 408 and the connection is closed. uvicorn itself
has no such limit, so connections that trickle headers a byte at a time
(slowloris) would stay open for as long as the client likes.

On SIGTERM the worker stops accepting, but first serves the connections the
kernel has already accepted for it (``DrainingServer``): a client whose
request was sent gets its answer, not a reset. Open websockets are closed
with 1001 (going away), as a browser expects of a server shutting down.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import socket
import sys
import time

from gunicorn.arbiter import Arbiter
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import (
    WebSocketsSansIOProtocol,
)
from uvicorn.server import Server
from uvicorn_worker import UvicornWorker

from platform_core.config import get_config
from platform_core.exceptions import REQUEST_TIMEOUT, error_body

GOING_AWAY = 1001
# Seconds the backlog's connections get to send their request at shutdown.
BACKLOG_READ = 0.5


class CoalescingTransport:
    """A transport that joins the writes made in one turn of the loop.

    The first write is held and a flush is scheduled; the next write in the
    same turn sends both at once. Everything else is the wrapped transport's.
    """

    def __init__(self, transport: asyncio.Transport, loop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data) -> None:
        """Hold ``data`` until the next write or the end of this turn."""
        if self._held is None:
            if not data:
                return
            self._held = bytes(data)
            self._loop.call_soon(self.flush)
        else:
            held, self._held = self._held, None
            self._transport.write(held + data)

    def writelines(self, chunks) -> None:
        """Write ``chunks`` as one piece."""
        self.write(b"".join(chunks))

    def flush(self) -> None:
        """Send what is held now."""
        if self._held is not None:
            held, self._held = self._held, None
            self._transport.write(held)

    def get_write_buffer_size(self) -> int:
        """Bytes not yet sent, held ones included."""
        held = len(self._held) if self._held is not None else 0
        return held + self._transport.get_write_buffer_size()

    def write_eof(self) -> None:
        """Send what is held, then close the writing side."""
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        """Send what is held, then close."""
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        """Drop what is held and close at once."""
        self._held = None
        self._transport.abort()

    def __getattr__(self, name: str):
        return getattr(self._transport, name)


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over a ``CoalescingTransport``, with a
    header timeout.

    The timer starts when the connection is made and again after each
    answer; complete headers stop it. When it fires, a client that has begun
    a request gets 408; one that has sent nothing is closed silently.
    """

    _header_timer: asyncio.TimerHandle | None = None
    _request_begun = False

    def connection_made(self, transport) -> None:  # type: ignore[override]
        """Wrap the connection's transport, then set up as uvicorn does."""
        super().connection_made(CoalescingTransport(transport, self.loop))
        self._start_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the header timer, then clean up as uvicorn does."""
        self._stop_header_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        """Note that a request has begun (a timeout is then a 408)."""
        self._request_begun = True
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        """Stop the header timer: the request is in; the app is called."""
        self._stop_header_timer()
        self._request_begun = False
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        """Start the header timer for the next request, unless one is queued."""
        queued = bool(self.pipeline)
        super().on_response_complete()
        if not queued and not self.transport.is_closing():
            self._start_header_timer()

    def _start_header_timer(self) -> None:
        self._stop_header_timer()
        timeout = get_config().server.header_timeout
        self._header_timer = self.loop.call_later(timeout, self._headers_too_slow)

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        """Answer 408 to a request whose headers are late, and close."""
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self._request_begun:
            self.transport.write(_timeout_response())
        self.transport.close()


@functools.cache
def _timeout_response() -> bytes:
    """Return the whole HTTP answer to headers that came too late."""
    seconds = get_config().server.header_timeout
    message = (
        f"The request headers did not arrive within {seconds:g} s "
        "([server] header_timeout)"
    )
    body = json.dumps(error_body(408, REQUEST_TIMEOUT, message)).encode()
    head = (
        "HTTP/1.1 408 Request Timeout\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode() + body


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets protocol, closing with 1001 at shutdown."""

    def shutdown(self) -> None:
        """Close an open websocket with 1001 (going away); else as uvicorn."""
        if not self.handshake_complete or self.close_sent:
            return super().shutdown()
        self.stop_keepalive()
        self.queue.put_nowait({"type": "websocket.disconnect", "code": GOING_AWAY})
        self.conn.send_close(GOING_AWAY)
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.transport.close()


class DrainingServer(Server):
    """uvicorn's server; at shutdown it first serves its share of the
    listening sockets' backlog (connections the kernel completed but the
    loop had not accepted yet), which closing the sockets would reset."""

    async def shutdown(self, sockets: list | None = None) -> None:
        """Take the backlog's connections, let them send, then shut down."""
        listening = [
            socket.socket(fileno=os.dup(sock.fileno()))
            for server in self.servers
            for sock in server.sockets
        ]
        for server in self.servers:
            server.close()  # the loop accepts no more
        await self._accept_backlog(listening)
        # A connection accepted just now has not sent its request yet: give
        # it a moment, or uvicorn would take it for idle and close it.
        deadline = time.monotonic() + BACKLOG_READ
        while time.monotonic() < deadline and any(
            _waiting(p) for p in self.server_state.connections
        ):
            await asyncio.sleep(0.01)
        await super().shutdown(sockets)

    async def _accept_backlog(self, listening: list[socket.socket]) -> None:
        loop = asyncio.get_running_loop()
        create = functools.partial(
            self.config.http_protocol_class,
            config=self.config,
            server_state=self.server_state,
            app_state=self.lifespan.state,
        )
        for sock in listening:
            sock.setblocking(False)
            while True:
                try:
                    connection, _ = sock.accept()
                except OSError:  # BlockingIOError: the backlog is empty
                    break
                await loop.connect_accepted_socket(create, connection)
            sock.close()


def _waiting(protocol) -> bool:
    """Return whether an HTTP connection has not sent its first request."""
    transport = getattr(protocol, "transport", None)
    fresh = getattr(protocol, "cycle", False) is None  # websockets have none
    return fresh and transport is not None and not transport.is_closing()


class Worker(UvicornWorker):
    """gunicorn's uvicorn worker (package uvicorn-worker), with ``HttpProtocol``."""

    CONFIG_KWARGS = {
        **UvicornWorker.CONFIG_KWARGS,
        "http": HttpProtocol,
        "ws": WebSocketProtocol,
    }

    async def _serve(self) -> None:
        """Serve as uvicorn-worker does, with ``DrainingServer``."""
        self.config.app = self.wsgi
        server = DrainingServer(config=self.config)
        self._install_sigquit_handler()
        await server.serve(sockets=self.sockets)
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)
