"""The production worker: uvicorn's, writing each response in one piece.

uvicorn writes a response's head when the app sends ``http.response.start``
and its body on ``http.response.body``: two writes, so two TCP segments and
two system calls for every small response. ``Worker`` runs uvicorn with
``HttpProtocol``, whose transport keeps a first write until the end of the
event loop's turn and sends it together with the next one::

    gunicorn -k platform_core.runtime.server.Worker ...   (deploy/gunicorn.conf.py)

A streamed response still goes out as soon as the app yields to the loop:
nothing waits longer than the current turn.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.workers import UvicornWorker


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
    """uvicorn's httptools protocol over a ``CoalescingTransport``."""

    def connection_made(self, transport) -> None:  # type: ignore[override]
        """Wrap the connection's transport, then set up as uvicorn does."""
        super().connection_made(CoalescingTransport(transport, self.loop))


class Worker(UvicornWorker):
    """gunicorn's uvicorn worker, with ``HttpProtocol``."""

    CONFIG_KWARGS = {**UvicornWorker.CONFIG_KWARGS, "http": HttpProtocol}
