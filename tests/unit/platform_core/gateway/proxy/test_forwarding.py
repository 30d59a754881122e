"""The contained proxy's rules: request target, headers, rewrites."""

import pytest

from platform_core.exceptions import APIError
from platform_core.gateway.proxy.forwarding import (
    Upstream,
    check_framing,
    header_map,
    request_headers,
    response_headers,
    rewrite_cookie,
    rewrite_location,
    target_path,
)

FRONTEND = Upstream("http", "127.0.0.1", 3100, "/shop")
EXTERNAL = Upstream.from_url("https://api.example.com/v2")


def scope(raw_path: bytes, root_path: str = "/shop", headers=()) -> dict:
    return {
        "type": "http",
        "path": raw_path.decode("latin-1"),
        "raw_path": raw_path,
        "root_path": root_path,
        "scheme": "http",
        "headers": [(b"host", b"joule.example"), *headers],
        "client": ("192.0.2.7", 5555),
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"/shop", ""),
        (b"/shop/", "/"),
        (b"/shop/cart/1", "/cart/1"),
        (b"/shop//cart/./1/", "/cart/1/"),
        (b"/shop/%2e/cart", "/cart"),
        (b"/sh%6Fp/cart", "/cart"),
        (b"/shop/caf%C3%A9", "/caf%C3%A9"),
        (b"/shop/a%20b?x=1", "/a%20b"),
    ],
)
def test_target_path_is_normalised_under_the_prefix(raw, expected):
    assert target_path(scope(raw)) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"/shop/../admin", "'..' segment"),
        (b"/shop/%2e%2e/admin", "'..' segment"),
        (b"/shop/.%2E/admin", "'..' segment"),
        (b"/shop/%252e%252e/admin", "'..' segment"),
        (b"/shop/a%2fb", "encoded '/'"),
        (b"/shop/a%252Fb", "encoded '/'"),
        (b"/shop/a%5cb", "backslash"),
        (b"/shop/a\\b", "backslash"),
        (b"/shop/a%00", "NUL"),
        (b"/shop/a\x00", "NUL"),
        (b"/shop/a%0d%0aSet-Cookie:x", "control character"),
        (b"/shop/%zz", "not followed by two hex digits"),
        (b"/shop/a%2", "not followed by two hex digits"),
        (b"http://evil.example/shop/x", "must be a path"),
        (b"/other/x", "not under the prefix"),
    ],
)
def test_target_path_refuses_tricks_with_400(raw, reason):
    with pytest.raises(APIError, match=reason) as caught:
        target_path(scope(raw))
    assert (caught.value.status, caught.value.code) == (400, "INVALID_PATH")


def test_upstream_target_keeps_the_query_raw_and_encodes_the_rest():
    assert FRONTEND.target("/a", b"x=%00&y=1") == b"/shop/a?x=%00&y=1"
    assert FRONTEND.target("/a", b"q=caf\xc3\xa9 x") == b"/shop/a?q=caf%C3%A9%20x"
    assert Upstream("http", "127.0.0.1", 80).target("") == b"/"


@pytest.mark.parametrize(
    "headers",
    [
        [(b"content-length", b"4"), (b"transfer-encoding", b"chunked")],
        [(b"content-length", b"4"), (b"content-length", b"5")],
        [(b"content-length", b"-1")],
    ],
)
def test_ambiguous_body_framing_is_refused(headers):
    with pytest.raises(APIError, match="Length") as caught:
        check_framing(header_map(headers))
    assert (caught.value.status, caught.value.code) == (400, "INVALID_HEADERS")


def test_request_headers_drop_hop_by_hop_secrets_and_client_forwarding():
    sent = dict(
        request_headers(
            scope(
                b"/shop/x",
                headers=[
                    (b"Connection", b"close, X-Drop"),
                    (b"X-Drop", b"1"),
                    (b"TE", b"trailers"),
                    (b"Proxy-Authorization", b"Basic x"),
                    (b"X-Forwarded-For", b"6.6.6.6"),
                    (b"Forwarded", b"for=6.6.6.6"),
                    (b"X-JOULE-ADMIN-SECRET", b"s3cret"),
                    (b"Cookie", b"a=1"),
                ],
            ),
            FRONTEND,
        )
    )
    assert sent == {
        b"host": b"127.0.0.1:3100",
        b"cookie": b"a=1",
        b"x-forwarded-proto": b"http",
        b"x-forwarded-for": b"192.0.2.7",
        b"x-forwarded-host": b"joule.example",
        b"x-forwarded-prefix": b"/shop",
    }


def test_a_malformed_host_is_not_forwarded():
    bad = scope(b"/shop/x")
    bad["headers"] = [(b"host", b"evil\r\nx: y")]
    sent = dict(request_headers(bad, FRONTEND))
    assert b"x-forwarded-host" not in sent


def test_response_headers_drop_hop_by_hop_and_rewrite_paths():
    back = response_headers(
        [
            (b"Connection", b"close, X-Secret"),
            (b"X-Secret", b"1"),
            (b"Keep-Alive", b"timeout=5"),
            (b"Transfer-Encoding", b"chunked"),
            (b"Proxy-Authenticate", b"Basic"),
            (b"Content-Encoding", b"gzip"),
            (b"Location", b"http://127.0.0.1:3100/shop/cart"),
            (b"Set-Cookie", b"s=1; Path=/"),
        ],
        FRONTEND,
        "/shop",
    )
    assert back == [
        (b"content-encoding", b"gzip"),
        (b"location", b"/shop/cart"),
        (b"set-cookie", b"s=1; Path=/shop"),
    ]


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("/shop/cart?a=1", "/shop/cart?a=1"),
        ("/cart", "/shop/cart"),
        ("http://localhost:3100/shop/", "/shop/"),
        ("http://127.0.0.1:3100", "/shop/"),
        ("https://elsewhere.example/x", "https://elsewhere.example/x"),
        ("//elsewhere.example/x", "//elsewhere.example/x"),
        ("next", "next"),
    ],
)
def test_location_points_at_the_prefix(location, expected):
    assert rewrite_location(location, FRONTEND, "/shop") == expected


def test_location_of_an_external_upstream_maps_its_base_path():
    assert rewrite_location("https://api.example.com/v2/a", EXTERNAL, "/ext") == (
        "/ext/a"
    )
    assert rewrite_location("/v2/a", EXTERNAL, "/ext") == "/ext/a"


@pytest.mark.parametrize(
    ("cookie", "expected"),
    [
        ("s=1", "s=1; Path=/shop"),
        ("s=1; Path=/", "s=1; Path=/shop"),
        ("s=1; path=/shop/cart; HttpOnly", "s=1; path=/shop/cart; HttpOnly"),
        ("s=1; Path=/cart", "s=1; Path=/shop/cart"),
        ("s=1; Domain=127.0.0.1; Path=/", "s=1; Path=/shop"),
        ("s=1; Domain=joule.example", "s=1; Domain=joule.example; Path=/shop"),
    ],
)
def test_cookie_path_is_scoped_to_the_prefix(cookie, expected):
    assert rewrite_cookie(cookie, FRONTEND, "/shop") == expected


def test_upstream_from_url_needs_an_http_url():
    assert EXTERNAL == Upstream("https", "api.example.com", 443, "/v2")
    with pytest.raises(ValueError, match="not an http"):
        Upstream.from_url("file:///etc/passwd")
