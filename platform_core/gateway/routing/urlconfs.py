"""Prefix routing inside Django: each service resolves against its own URLconf.

``ServiceRoutingMiddleware`` matches the path against the service prefixes
(longest first), then hands Django the service's URLconf, the path below the
prefix and a script prefix, so ``reverse()`` in a service gives full URLs::

    GET /orders/items/1  ->  services/orders/urls.py resolves "/items/1"
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import (
    Resolver404,
    ResolverMatch,
    get_resolver,
    get_script_prefix,
    re_path,
    set_script_prefix,
)
from django.utils.functional import cached_property
from django.views.decorators.csrf import csrf_exempt

from platform_core import exceptions as errors
from platform_core.config.types import ServiceSpec
from platform_core.registry import ROUTE_KEY, Route, kinds, services

# An in-process caller (mesh, tests) may pin the Route; clients cannot set
# this WSGI environ key or ASGI scope key.


class ServiceURLConf:
    """The URLconf of one service: its patterns and JSON error handlers."""

    handler400 = staticmethod(errors.rejected_request)
    handler403 = staticmethod(errors.permission_denied)
    handler404 = staticmethod(errors.page_not_found)
    handler500 = staticmethod(errors.server_error)

    def __init__(self, spec: ServiceSpec) -> None:
        self.spec = spec

    @cached_property
    def urlpatterns(self) -> list:
        """Return the kind's URL patterns, then the JSON 404 for the rest."""
        return [*kinds.get(self.spec.kind).urlpatterns(self.spec), NO_ROUTE]

    def __repr__(self) -> str:
        return f"<ServiceURLConf {self.spec.id}>"


@csrf_exempt  # the view it hands over to is checked (or exempt) itself
def no_route(request, *args, **kwargs):
    """Serve the path's slash twin when it has a route, else answer the JSON 404.

    ``/greet/ada/`` is served as ``/greet/ada`` (and the reverse) by the
    same view, without a redirect, so no client meets a trailing-slash
    surprise. The platform's own URLconf (admin) keeps Django's behaviour.
    """
    twin = slash_twin(request)
    if twin is None:
        return errors.no_route(request, *args, **kwargs)
    path_info, match = twin
    request.path = request.path[: len(request.path) - len(request.path_info)]
    request.path += path_info
    request.path_info, request.resolver_match = path_info, match
    if not getattr(match.func, "csrf_exempt", False):
        refused = CsrfViewMiddleware(lambda r: None).process_view(
            request, match.func, match.args, match.kwargs
        )
        if refused is not None:
            return refused
    return match.func(request, *match.args, **match.kwargs)


def slash_twin(request) -> tuple[str, ResolverMatch] | None:
    """Return the path with its final slash added or removed, and its match.

    None when the request is not in a service's URLconf, or the twin has
    no route either.
    """
    if not isinstance(getattr(request, "urlconf", None), ServiceURLConf):
        return None
    path = request.path_info
    twin = path[:-1] if path.endswith("/") and path != "/" else path + "/"
    try:
        match = get_resolver(request.urlconf).resolve(twin)
    except Resolver404:
        return None
    if match.func is no_route:
        return None
    return twin, match


# Last pattern of every URLconf: unmatched paths get the JSON 404 even when
# DEBUG is on (Django's debug 404 page would replace the handler).
NO_ROUTE = re_path(r"", no_route)


class ExtraPrefixURLConf:
    """The URLconf of a gateway's upstream prefix when Django is asked (WSGI)."""

    urlpatterns = [re_path(r"", errors.outside_django)]
    handler404 = staticmethod(errors.page_not_found)
    handler500 = staticmethod(errors.server_error)


EXTRA_PREFIX_URLCONF = ExtraPrefixURLConf()

_urlconfs: dict[ServiceSpec, ServiceURLConf] = {}


def urlconf_for(spec: ServiceSpec) -> ServiceURLConf:
    """Return the one URLconf object of ``spec`` (Django caches resolvers by it)."""
    if spec not in _urlconfs:
        _urlconfs[spec] = ServiceURLConf(spec)
    return _urlconfs[spec]


def forget_urlconfs(sender=None, service_id: str = "", **kwargs) -> None:
    """Drop the URLconfs of ``service_id`` and Django's resolver caches."""
    from django.urls import clear_url_caches

    for spec in [spec for spec in _urlconfs if spec.id == service_id]:
        del _urlconfs[spec]
    clear_url_caches()


def route_for(request) -> Route | None:
    """Return the route of a Django request, honouring a pinned route.

    The pin is in the WSGI environ, or in the ASGI scope (as is, or as
    a2wsgi's ``asgi.scope`` environ key).
    """
    meta = request.META
    scope = getattr(request, "scope", None) or meta.get("asgi.scope") or {}
    pinned = meta.get(ROUTE_KEY) or scope.get(ROUTE_KEY)
    return pinned or services.match(request.path_info)


class ServiceRoutingMiddleware:
    """Resolve a request against the URLconf of the service its path names."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request):
        route = route_for(request)
        request.joule_route = route
        if route is not None:
            extra = route.extra
            request.urlconf = EXTRA_PREFIX_URLCONF if extra else urlconf_for(route.spec)
            if not extra:
                try:
                    _ = request.urlconf.urlpatterns  # built now: reads the schema
                except (OperationalError, InterfaceError) as exc:
                    return errors.exception_response(exc)
            if route.prefix:
                request.path_info = request.path_info[len(route.prefix) :] or "/"
                return self._under_prefix(request, route.prefix)
        return self.get_response(request)

    def _under_prefix(self, request, prefix: str):
        """Answer with ``reverse()`` under the service's prefix, then restore it.

        Django's handlers set the prefix per request, but its test client
        does not: left in place, prefixes would pile up across requests.
        """
        saved = get_script_prefix()
        set_script_prefix(saved.rstrip("/") + prefix + "/")
        try:
            return self.get_response(request)
        finally:
            set_script_prefix(saved)
