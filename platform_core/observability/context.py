"""The current request's context: its service, id and forwarded headers.

Set once per request by the middleware or the ASGI mount wrapper; read by
the log filter (service and request id on every line) and by the mesh
(which forwards the caller's credentials and request id)::

    with request_context("orders", headers):
        current().request_id
"""

from __future__ import annotations

import contextlib
import contextvars
import random
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

REQUEST_ID_HEADER = "x-request-id"
# Headers the mesh carries from the caller to the service it calls.
FORWARDED_HEADERS = ("authorization", "cookie")
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


@dataclass(frozen=True)
class RequestContext:
    """What code running for a request knows about it."""

    service: str | None = None
    request_id: str | None = None
    forwarded: Mapping[str, str] = field(default_factory=dict)


_EMPTY = RequestContext()
_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "joule_request", default=None
)


def current() -> RequestContext:
    """Return the context of the request being served (empty outside one)."""
    return _current.get() or _EMPTY


def request_id_from(value: str | None) -> str:
    """Return a client's X-Request-Id when it is sane, else a new id."""
    if value and _REQUEST_ID_RE.match(value):
        return value
    # 128 random bits in hex, as uuid4().hex; no system call per request
    # (the generator is seeded again in each forked worker).
    return f"{random.getrandbits(128):032x}"


@contextlib.contextmanager
def request_context(
    service: str | None, headers: Mapping[str, str]
) -> Iterator[RequestContext]:
    """Set the request context from lower-case ``headers`` for the block."""
    context = RequestContext(
        service=service,
        request_id=request_id_from(headers.get(REQUEST_ID_HEADER)),
        forwarded={k: headers[k] for k in FORWARDED_HEADERS if k in headers},
    )
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)
