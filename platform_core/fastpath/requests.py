"""The light request the fast routes give the generated views.

It holds what the views read (method, path, query, content type, headers,
body), nothing of Django's request cycle::

    request = FastRequest(scope, headers, body)
    request.GET["limit"]          # parsed once per distinct query string
"""

from __future__ import annotations

import functools

from django.core.exceptions import RequestDataTooBig
from django.http import QueryDict

from platform_core.rest.params import check_encoding


class FastRequest:
    """What the generated views read of a request."""

    def __init__(self, scope: dict, headers: dict[str, str], body: bytes | None):
        self.method = scope["method"]
        self.path = scope["path"]
        self._query_string = scope.get("query_string", b"")
        self.content_type = headers.get("content-type", "")
        # Lower-case names: views ask headers.get("if-none-match").
        self.headers = headers
        self._body = body

    @property
    def body(self) -> bytes:
        if self._body is None:
            raise RequestDataTooBig("the body is too large")
        return self._body

    @functools.cached_property
    def GET(self) -> QueryDict:
        # Parsed in the view's call, where a refused query is answered (400).
        return _query(self._query_string)


@functools.lru_cache(maxsize=1024)
def _query(query_string: bytes) -> QueryDict:
    """The parsed query string: immutable, so one object serves every request.

    Raise 400 when it is not UTF-8, as ``EntityView.initial`` does.
    """
    check_encoding(query_string)
    return QueryDict(query_string)
