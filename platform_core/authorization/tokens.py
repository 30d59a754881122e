"""Verify bearer JWTs (HS* secret or a JWKS URL) and ask the auth webhook.

Algorithms are fixed by config: a token's own ``alg`` header chooses
nothing (``none`` and algorithm confusion fail); ``exp`` is required;
``aud``/``iss`` are checked when configured. JWKS keys are fetched on
first use and cached for 5 minutes; an unknown key id fetches them again, at
most every 30 seconds (a flood of made-up ids cannot hammer the issuer)::

    claims = verify_jwt(token, options.jwt)          # 401 APIError if bad
    claims = ask_webhook("http://auth.internal/verify", headers)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import jwt

from platform_core.authorization.rules import JwtOptions
from platform_core.exceptions import SERVICE_UNAVAILABLE, UNAUTHORIZED, APIError

_jwks_clients: dict[str, jwt.PyJWKClient] = {}
_lock = threading.Lock()
# Headers the webhook gets: those that carry credentials, never the secret.
_FORWARDED = ("authorization", "cookie")
_internal_client: list[Callable[[], httpx.Client]] = []


def unauthorized(message: str) -> APIError:
    """Return the 401 of a bad credential."""
    return APIError(UNAUTHORIZED, 401, message)


def use_internal_client(factory: Callable[[], httpx.Client] | None) -> None:
    """Make ``factory()`` the client of webhook URLs on ``<id>.internal``.

    The platform plugs the mesh in at start-up, so an auth service of the
    project answers in-process; unset, such URLs go out as plain HTTP.
    """
    _internal_client[:] = [factory] if factory is not None else []


def _jwks_client(url: str) -> jwt.PyJWKClient:
    with _lock:
        if url not in _jwks_clients:
            _jwks_clients[url] = jwt.PyJWKClient(
                url, cache_keys=True, lifespan=300, timeout=5, cooldown_duration=30
            )
        return _jwks_clients[url]


def verify_jwt(token: str, options: JwtOptions) -> dict:
    """Return the claims of a valid token; raise a 401 APIError otherwise."""
    try:
        if options.secret:
            key: Any = options.secret
        else:
            key = _jwks_client(options.jwks).get_signing_key_from_jwt(token).key
        return jwt.decode(
            token,
            key,
            algorithms=list(options.algorithms),
            audience=options.audience,
            issuer=options.issuer,
            options={"require": ["exp"], "verify_aud": options.audience is not None},
        )
    except jwt.PyJWKClientConnectionError as exc:
        raise APIError(
            SERVICE_UNAVAILABLE, 503, f"The JWKS URL did not answer: {exc}"
        ) from None
    except jwt.PyJWKClientError as exc:
        raise unauthorized(f"Invalid token: {exc}") from None
    except jwt.ExpiredSignatureError:
        raise unauthorized("Invalid token: it has expired") from None
    except jwt.InvalidTokenError as exc:
        raise unauthorized(f"Invalid token: {exc}") from None


def ask_webhook(url: str, headers: Mapping[str, str]) -> dict:
    """POST the caller's credentials to ``url``; a 2xx JSON object is the claims."""
    sent = {name: value for name, value in headers.items() if name in _FORWARDED}
    sent.update(
        {n: v for n, v in headers.items() if n.startswith("x-") and "secret" not in n}
    )
    internal = _internal_client and ".internal" in httpx.URL(url).host
    client = _internal_client[0]() if internal else httpx.Client()
    try:
        with client:
            answer = client.post(url, headers=sent, timeout=5)
    except httpx.HTTPError as exc:
        raise APIError(
            SERVICE_UNAVAILABLE, 503, f"The authorization webhook did not answer: {exc}"
        ) from None
    if not answer.is_success:
        raise unauthorized(
            f"The authorization webhook refused (HTTP {answer.status_code})"
        )
    try:
        claims = answer.json()
    except ValueError:
        claims = None
    if not isinstance(claims, dict):
        raise unauthorized("The authorization webhook did not answer a JSON object")
    return claims
