"""Who is calling: roles and claims, from the request's credentials.

Per db service with ``[authorization]``, in this order: the admin secret
(with ``X-JOULE-*`` impersonation when no jwt or webhook is configured), a
bearer JWT, the webhook's answer, the Django session user, else the
anonymous role. The webhook, when configured, is asked on every request
without the admin secret or a JWT, as Platformatic asks it: it judges
whatever the caller presents (a bearer token, cookies, an API key in its
own header, or nothing). A bad secret, token or webhook answer is a 401::

    credentials = Credentials.of_request(request)    # set per request
    identity = credentials.identity(options)        # cached per service
    identity.roles, identity.claim("USER_ID")

The credentials of the request being served are in ``current``; the
entities API uses them when it is not given a request explicitly.
"""

from __future__ import annotations

import contextvars
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from platform_core.authorization.conditions import normalize
from platform_core.authorization.rules import ADMIN_ROLE, AuthorizationOptions
from platform_core.authorization.tokens import ask_webhook, unauthorized, verify_jwt

ADMIN_SECRET = "x-joule-admin-secret"
ROLE_HEADER = "x-joule-role"


@dataclass(frozen=True)
class Identity:
    """The caller as rules see it."""

    roles: tuple[str, ...]
    claims: Mapping[str, Any] = field(default_factory=dict)
    # admin: the admin secret alone; every rule is bypassed.
    admin: bool = False

    def claim(self, name: str) -> Any:
        """Return claim ``name`` (case, ``-`` and ``_`` ignored), or None."""
        return self.claims.get(normalize(name))

    @property
    def key(self) -> tuple:
        """Return a hashable summary: equal keys see the same rows."""
        return (self.admin, self.roles, tuple(sorted(self.claims.items(), key=str)))


def claims_identity(
    claims: Mapping[str, Any], options: AuthorizationOptions
) -> Identity:
    """Return the identity of verified claims (JWT, webhook)."""
    normalized = {normalize(k): v for k, v in claims.items()}
    return Identity(
        split_roles(normalized.get(normalize(options.role_claim))), normalized
    )


def split_roles(value: Any) -> tuple[str, ...]:
    """Return roles from a claim: a string, ``"a,b"`` or a list."""
    if value is None:
        return ()
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    return tuple(str(item).strip() for item in items if str(item).strip())


class Credentials:
    """What a request presented: headers (lower-case names) and session user."""

    def __init__(self, headers: Mapping[str, str], user: Any = None) -> None:
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.user = user
        self._identities: dict[int, Identity] = {}
        # memo: what one request reads once (admin rules' version, ...).
        self.memo: dict = {}

    @classmethod
    def of_request(cls, request) -> Credentials:
        """Return the credentials of a Django request."""
        return cls(request.headers, getattr(request, "user", None))

    def identity(self, options: AuthorizationOptions) -> Identity:
        """Return the caller's identity under ``options``; 401 when invalid."""
        key = id(options)
        if key not in self._identities:
            self._identities[key] = self._resolve(options)
        return self._identities[key]

    def _resolve(self, options: AuthorizationOptions) -> Identity:
        secret = self.headers.get(ADMIN_SECRET)
        if secret is not None:
            return self._admin(secret, options)
        authorization = self.headers.get("authorization")
        if authorization is not None:
            return self._token(authorization, options)
        if options.webhook:
            # Credentials may be in any header (X-API-Key) or none at all:
            # only the webhook knows, so it is asked every time.
            return claims_identity(ask_webhook(options.webhook, self.headers), options)
        if self.user is not None and getattr(self.user, "is_authenticated", False):
            return session_identity(self.user)
        return Identity((options.anonymous_role,))

    def _admin(self, secret: str, options: AuthorizationOptions) -> Identity:
        expected = options.admin_secret
        if not expected or not hmac.compare_digest(secret.encode(), expected.encode()):
            raise unauthorized("Invalid admin secret")
        role = self.headers.get(ROLE_HEADER)
        if role is None or options.jwt is not None or options.webhook is not None:
            return Identity((ADMIN_ROLE,), admin=True)
        claims = {
            normalize(name): value
            for name, value in self.headers.items()
            if name.startswith("x-joule-") and name not in (ADMIN_SECRET, ROLE_HEADER)
        }
        return Identity(split_roles(role), claims)

    def _token(self, authorization: str, options: AuthorizationOptions) -> Identity:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("The Authorization header must be 'Bearer <token>'")
        if options.jwt is None:
            if options.webhook:
                claims = ask_webhook(options.webhook, self.headers)
                return claims_identity(claims, options)
            raise unauthorized("This service does not accept bearer tokens")
        return claims_identity(verify_jwt(token.strip(), options.jwt), options)


def session_identity(user) -> Identity:
    """Return the identity of a Django user: group names are roles.

    Claims are USER_ID, USERNAME, EMAIL and those of its ``UserClaims`` (from
    LDAP or the admin). A superuser is the platform admin; a user in no group
    has the role "user".
    """
    if user.is_superuser:
        return Identity((ADMIN_ROLE,), admin=True)
    from platform_core.models import UserClaims

    groups = tuple(user.groups.values_list("name", flat=True))
    claims = {
        "USER_ID": user.pk,
        "USERNAME": user.get_username(),
        "EMAIL": getattr(user, "email", "") or None,
    }
    stored = UserClaims.objects.filter(user=user).values_list("claims", flat=True)
    for extra in stored[:1]:
        claims.update({normalize(k): v for k, v in (extra or {}).items()})
    return Identity(groups or ("user",), {k: v for k, v in claims.items() if v})


current: contextvars.ContextVar[Credentials | None] = contextvars.ContextVar(
    "joule_credentials", default=None
)
