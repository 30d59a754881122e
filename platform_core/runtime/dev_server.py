"""The development server: daphne, refusing a too large body before reading it.

Daphne (on twisted) reads a request's whole body before the application
sees the request, so the router's check of ``Content-Length``
(``gateway.routing.admission``) would run only once the client had sent, or
stopped sending, all of it: ``Content-Length: 1000000000`` and a few bytes
would hold the request forever. Here the same check runs as soon as the
headers are in: the JSON 413 goes out at once, the body is dropped as it
arrives and the connection closed after it. ``manage.py runserver`` runs
it::

    class Command(DaphneRunserver):
        server_cls = DevelopmentServer
"""

from __future__ import annotations

import io
from http import HTTPStatus

from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.server import Server

from platform_core.gateway.routing.admission import body_refusal, refusal_body


class BoundedRequest(WebRequest):
    """Daphne's request, answered 413 at its headers when its body is too large."""

    refused = False

    def gotLength(self, length: int | None) -> None:  # noqa: N802 (twisted's name)
        """Refuse a declared body over the limit; else prepare to read it."""
        headers = self.requestHeaders
        declared = headers.getRawHeaders(b"content-length", [b""])[0]
        content_type = headers.getRawHeaders(b"content-type", [b""])[0]
        error = body_refusal(
            declared.decode("latin1") or None, content_type.decode("latin1")
        )
        if error is None or error.status != 413:
            return super().gotLength(length)
        self.refused = True
        self.content = _Dropped()
        body = refusal_body(error)
        # Written as is: twisted's response methods need the whole request.
        phrase = HTTPStatus(error.status).phrase
        self.channel.transport.write(
            b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
            % (error.status, phrase.encode(), len(body), body)
        )

    def process(self):
        """Hand the request to the application; close a refused one.

        A refused request ends here once its body has been dropped: closing
        earlier would reset a client still sending it, before it reads the
        answer.
        """
        if self.refused:
            self.channel.transport.loseConnection()
            return None
        return super().process()


class _Dropped(io.BytesIO):
    """A request body that keeps nothing of what is written to it."""

    def write(self, data) -> int:
        return len(data)


class BoundedHTTPFactory(HTTPFactory):
    """Daphne's HTTP factory, making ``BoundedRequest`` requests."""

    def buildProtocol(self, addr):  # noqa: N802 (twisted's name)
        """Return daphne's HTTP channel, with ``BoundedRequest``."""
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = BoundedRequest
        return protocol


class DevelopmentServer(Server):
    """Daphne's server, serving HTTP through ``BoundedHTTPFactory``."""

    @property
    def http_factory(self) -> HTTPFactory:
        """Return the HTTP factory the server listens with."""
        return self._http_factory

    @http_factory.setter
    def http_factory(self, factory: HTTPFactory) -> None:
        # Server.run() makes daphne's own factory; this one stands in for it.
        self._http_factory = BoundedHTTPFactory(self)
