"""Keep the credentials of the request being served for the entities API.

The identity itself is resolved lazily, per service, by the first rule that
needs it (a service without ``[authorization]`` never resolves one)::

    MIDDLEWARE = [..., "django.contrib.auth.middleware.AuthenticationMiddleware",
                  "platform_core.authorization.middleware.CredentialsMiddleware"]
"""

from __future__ import annotations

from collections.abc import Callable

from platform_core.authorization.identity import Credentials, current


class CredentialsMiddleware:
    """Set ``identity.current`` to the request's credentials while it is served."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request):
        request.joule_credentials = Credentials.of_request(request)
        token = current.set(request.joule_credentials)
        try:
            return self.get_response(request)
        finally:
            current.reset(token)
