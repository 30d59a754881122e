"""The auth service: JWTs for users, and claims for db services' webhook.

    POST /auth/token   {"username": ..., "password": ...}  -> {"token": ...}
    POST /auth/verify  Authorization: Bearer <token>, or a session cookie
                       -> 200 {claims} | 401

A token carries ``sub`` (the user name), ``user_id``, ``role`` (the user's
groups, comma-separated; "user" when none), the user's stored claims, and
``exp``. Users are Django's, LDAP's included when [ldap] is configured.
"""

from __future__ import annotations

import time

import jwt
import orjson
from django.contrib.auth import authenticate
from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from platform_core.config.env import env
from platform_core.exceptions import error_body

LIFETIME = 3600


def secret() -> str | None:
    """Return the signing secret (env JOULE_JWT_SECRET), or None."""
    return env("JOULE_JWT_SECRET", default=None) or None


def error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(status, code, message), status=status)


def claims_of(user) -> dict:
    """Return the claims of a Django user, as tokens and the webhook carry."""
    from platform_core.models import UserClaims

    groups = list(user.groups.values_list("name", flat=True)) or ["user"]
    claims = {"sub": user.get_username(), "user_id": user.pk, "role": ",".join(groups)}
    stored = UserClaims.objects.filter(user=user).first()
    if stored is not None:
        claims.update({str(k).lower(): v for k, v in stored.claims.items()})
    return claims


@method_decorator(csrf_exempt, name="dispatch")
class TokenView(View):
    """Exchange a user name and password for a signed JWT."""

    def post(self, request):
        key = secret()
        if key is None:
            return error(503, "SERVICE_UNAVAILABLE", "JOULE_JWT_SECRET is not set")
        try:
            body = orjson.loads(request.body)
        except orjson.JSONDecodeError:
            return error(400, "INVALID_BODY", "The body must be JSON")
        if not isinstance(body, dict) or not all(
            isinstance(body.get(k), str) for k in ("username", "password")
        ):
            return error(400, "INVALID_BODY", 'Give "username" and "password" strings')
        user = authenticate(
            request, username=body["username"], password=body["password"]
        )
        if user is None or not user.is_active:
            return error(401, "UNAUTHORIZED", "Wrong user name or password")
        claims = {**claims_of(user), "exp": int(time.time()) + LIFETIME}
        token = jwt.encode(claims, key, algorithm="HS256")
        return JsonResponse({"token": token, "expiresIn": LIFETIME})


@method_decorator(csrf_exempt, name="dispatch")
class VerifyView(View):
    """Answer the claims of a token or session: the db services' webhook."""

    def post(self, request):
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            key = secret()
            if key is None:
                return error(503, "SERVICE_UNAVAILABLE", "JOULE_JWT_SECRET is not set")
            try:
                claims = jwt.decode(
                    header[7:].strip(),
                    key,
                    algorithms=["HS256"],
                    options={"require": ["exp"]},
                )
            except jwt.InvalidTokenError as exc:
                return error(401, "UNAUTHORIZED", f"Invalid token: {exc}")
            return JsonResponse(claims)
        if request.user.is_authenticated:
            return JsonResponse(claims_of(request.user))
        return error(401, "UNAUTHORIZED", "No token and no session")

    get = post
