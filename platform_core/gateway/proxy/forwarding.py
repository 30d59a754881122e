"""What a contained proxy sends upstream and back: the target, the headers.

Shared by the HTTP proxy (``gateway.proxy``) and the websocket proxy
(``gateway.ws_proxy``). The upstream is fixed by configuration; nothing the
client sends (an absolute-form target, Host, X-Forwarded-*) can change it::

    upstream = Upstream.from_url("http://127.0.0.1:3000/legacy-api")
    path = target_path(scope)              # 400 on "..", %2e%2e, %2f, %00
    url = upstream.url(path, scope["query_string"])
    headers = request_headers(scope, upstream)
    headers_back = response_headers(raw, upstream, scope["root_path"])
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote, urlsplit

from platform_core import exceptions as codes
from platform_core.exceptions import APIError

# Hop-by-hop headers (RFC 9110 7.6.1) and those a proxy sets itself.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"proxy-connection",
    }
)
# Set by the proxy from what it knows; a client's own values are dropped.
FORWARDED = frozenset(
    {
        b"forwarded",
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-forwarded-host",
        b"x-forwarded-prefix",
        b"x-real-ip",
    }
)
ADMIN_SECRET_HEADER = b"x-joule-admin-secret"
_HOST_RE = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
_MAX_DECODES = 3
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def bad_path(message: str) -> APIError:
    """Return the 400 APIError of a request target the proxy refuses."""
    return APIError(codes.INVALID_PATH, 400, message)


@dataclass(frozen=True)
class Upstream:
    """Where a proxy sends requests: scheme, host, port and base path."""

    scheme: str
    host: str
    port: int
    base_path: str = ""

    @classmethod
    def from_url(cls, url: str) -> Upstream:
        """Return the upstream of ``http://host:port/base``."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http(s) URL with a host")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(parts.scheme, parts.hostname, port, parts.path.rstrip("/"))

    @property
    def netloc(self) -> str:
        """Return ``host:port`` as sent in Host (no port when the default)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port == {"http": 80, "https": 443}.get(self.scheme):
            return host
        return f"{host}:{self.port}"

    @property
    def origin(self) -> str:
        """Return ``scheme://host:port``."""
        return f"{self.scheme}://{self.netloc}"

    def target(self, path: str, query: bytes = b"") -> bytes:
        """Return the upstream request target for ``path`` under the prefix."""
        target = ((self.base_path + path) or "/").encode("ascii")
        return target + (b"?" + _percent_encode(query) if query else b"")

    def public_path(self, path: str, prefix: str) -> str:
        """Map an upstream path (Location, cookie Path) to the public prefix."""
        base = self.base_path
        if base and (path == base or path.startswith(base + "/")):
            path = path[len(base) :]
        return (prefix + path) or "/"


def target_path(scope: dict) -> str:
    """Return the request's path under its prefix, normalised and still encoded.

    Raise APIError (400, INVALID_PATH) for a ``..`` segment in any encoding,
    an encoded slash or backslash, NUL or another control character, or a
    malformed percent-escape (``%zz``, which apps such as Next.js answer 500).
    """
    raw = scope.get("raw_path") or scope["path"].encode("utf-8")
    raw = raw.split(b"?", 1)[0]
    if not raw.startswith(b"/"):
        raise bad_path("The request target must be a path starting with '/'")
    if re.search(rb"[\x00-\x20\x7f]", raw):
        raise bad_path("The path holds NUL, a space or a control character")
    text = _percent_encode(raw).decode("ascii")
    if _BAD_ESCAPE.search(text):
        raise bad_path("The path holds a '%' not followed by two hex digits")
    _refuse_tricks(text)
    segments = _normalise(text)
    prefix = [s for s in scope.get("root_path", "").split("/") if s]
    head = [unquote(s) for s in segments[: len(prefix)]]
    if head != prefix:
        raise bad_path(f"The path is not under the prefix {scope.get('root_path')!r}")
    rest = segments[len(prefix) :]
    return "/" + "/".join(rest) if rest else ""


def _refuse_tricks(text: str) -> None:
    decoded = text
    for _ in range(_MAX_DECODES):
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in decoded):
            raise bad_path("The path holds NUL or a control character")
        if "\\" in decoded:
            raise bad_path("The path holds a backslash")
        if ".." in decoded.split("/"):
            raise bad_path("The path holds a '..' segment")
        more = unquote(decoded, errors="replace") if "%" in decoded else decoded
        if more == decoded:
            return
        if more.count("/") != decoded.count("/"):
            raise bad_path("The path holds an encoded '/'")
        decoded = more


def _normalise(text: str) -> list[str]:
    """Drop empty and '.' segments; keep a trailing slash as an empty segment."""
    parts = text.split("/")[1:]
    kept = [p for p in parts if p and unquote(p) != "."]
    if parts and parts[-1] == "" and kept:
        kept.append("")
    return kept


def header_map(headers) -> dict[bytes, list[bytes]]:
    """Return lower-case header names mapped to their values."""
    found: dict[bytes, list[bytes]] = {}
    for name, value in headers:
        found.setdefault(name.lower(), []).append(value)
    return found


def check_framing(headers: dict[bytes, list[bytes]]) -> None:
    """Refuse a request whose body length is ambiguous (request smuggling).

    Raise APIError (400, INVALID_HEADERS) for Content-Length together with
    Transfer-Encoding, or for differing Content-Length values.
    """
    lengths = set(headers.get(b"content-length", ()))
    if lengths and b"transfer-encoding" in headers:
        raise APIError(
            codes.INVALID_HEADERS,
            400,
            "A request may not carry both Content-Length and Transfer-Encoding",
        )
    if len(lengths) > 1 or any(not v.strip().isdigit() for v in lengths):
        raise APIError(codes.INVALID_HEADERS, 400, "Invalid Content-Length")


def _dropped(headers) -> set[bytes]:
    """Return the hop-by-hop names, including those Connection names."""
    names = set(HOP_BY_HOP)
    for name, value in headers:
        if name.lower() == b"connection":
            names.update(t.strip().lower() for t in value.split(b",") if t.strip())
    return names


def end_to_end(headers) -> list[tuple[bytes, bytes]]:
    """Return ``headers`` (lower-cased) without hop-by-hop and Proxy-* ones."""
    dropped = _dropped(headers)
    return [
        (name.lower(), value)
        for name, value in headers
        if name.lower() not in dropped and not name.lower().startswith(b"proxy-")
    ]


def request_headers(scope: dict, upstream: Upstream) -> list[tuple[bytes, bytes]]:
    """Return the headers to send upstream for an HTTP or websocket scope.

    Host is the upstream's; X-Forwarded-For/Proto/Host/Prefix are set from
    the connection, replacing the client's; the admin secret is dropped.
    """
    headers = [
        (name, value)
        for name, value in end_to_end(scope.get("headers", ()))
        if name not in FORWARDED and name not in (b"host", ADMIN_SECRET_HEADER)
    ]
    headers.append((b"host", upstream.netloc.encode("ascii")))
    return headers + forwarded_headers(scope)


def forwarded_headers(scope: dict) -> list[tuple[bytes, bytes]]:
    """Return the X-Forwarded-* headers describing the client's connection."""
    secure = scope.get("scheme") in ("https", "wss")
    headers = [(b"x-forwarded-proto", b"https" if secure else b"http")]
    client = scope.get("client")
    if client and client[0]:
        headers.append((b"x-forwarded-for", str(client[0]).encode("latin-1")))
    host = header_map(scope.get("headers", ())).get(b"host", [b""])[0]
    if _HOST_RE.match(host.decode("latin-1")):
        headers.append((b"x-forwarded-host", host))
    if scope.get("root_path"):
        headers.append((b"x-forwarded-prefix", scope["root_path"].encode("utf-8")))
    return headers


def response_headers(
    headers, upstream: Upstream, prefix: str
) -> list[tuple[bytes, bytes]]:
    """Return upstream response headers for the client.

    Hop-by-hop headers go; Location and Set-Cookie paths are mapped from
    the upstream to the public prefix.
    """
    result = []
    for name, value in end_to_end(headers):
        if name == b"location":
            value = rewrite_location(value.decode("latin-1"), upstream, prefix)
            value = value.encode("latin-1")
        elif name == b"set-cookie":
            value = rewrite_cookie(value.decode("latin-1"), upstream, prefix)
            value = value.encode("latin-1")
        result.append((name, value))
    return result


def rewrite_location(location: str, upstream: Upstream, prefix: str) -> str:
    """Return ``location`` pointing at the prefix instead of the upstream.

    ``http://127.0.0.1:3000/x`` (the upstream itself) and ``/x`` become
    ``<prefix>/x``; other hosts and relative references are left alone.
    """
    for origin in _origins(upstream):
        if location == origin or location.startswith(origin + "/"):
            location = location[len(origin) :] or "/"
            break
    if location.startswith("/") and not location.startswith("//"):
        path, sep, rest = location.partition("?")
        return upstream.public_path(path, prefix) + sep + rest
    return location


def _origins(upstream: Upstream) -> tuple[str, ...]:
    origins = [upstream.origin]
    if upstream.host in ("127.0.0.1", "localhost"):
        other = "localhost" if upstream.host == "127.0.0.1" else "127.0.0.1"
        origins.append(f"{upstream.scheme}://{other}:{upstream.port}")
    return tuple(origins)


_PATH_ATTR = re.compile(r";\s*path=([^;]*)", re.IGNORECASE)
_DOMAIN_ATTR = re.compile(r";\s*domain=([^;]*)", re.IGNORECASE)


def rewrite_cookie(cookie: str, upstream: Upstream, prefix: str) -> str:
    """Return a Set-Cookie value scoped to the prefix.

    ``Path=/`` (or none) becomes ``Path=<prefix>``; a Domain naming the
    upstream's own host is dropped, so the browser applies its own host.
    """
    if not prefix:
        return cookie
    match = _PATH_ATTR.search(cookie)
    if match is None:
        cookie = f"{cookie}; Path={prefix}"
    else:
        path = match.group(1).strip() or "/"
        public = upstream.public_path(path.rstrip("/") or "", prefix)
        cookie = cookie[: match.start(1)] + public + cookie[match.end(1) :]
    domain = _DOMAIN_ATTR.search(cookie)
    if domain and domain.group(1).strip().lstrip(".").lower() in _local(upstream):
        cookie = cookie[: domain.start()] + cookie[domain.end() :]
    return cookie


def _local(upstream: Upstream) -> set[str]:
    if upstream.host in ("127.0.0.1", "localhost"):
        return {"127.0.0.1", "localhost"}
    return {upstream.host.lower()}


def _percent_encode(raw: bytes) -> bytes:
    """Percent-encode bytes that may not appear raw in a request target."""
    return re.sub(rb"[^\x21-\x7e]", lambda m: b"%%%02X" % m.group()[0], raw)


class UpstreamSource(Protocol):
    """Where a proxy sends requests; may change between requests."""

    async def upstream(self) -> Upstream:
        """Return the upstream; raise APIError (503) while there is none."""


class FixedUpstream:
    """An upstream at a fixed base URL, e.g. a gateway's ``[[upstreams]]``."""

    def __init__(self, url: str) -> None:
        self.fixed = Upstream.from_url(url)

    async def upstream(self) -> Upstream:
        """Return the configured upstream."""
        return self.fixed
