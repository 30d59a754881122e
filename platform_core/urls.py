"""The platform's own URLconf: /_joule/ (dashboard, health, login), /admin/
and the composed API.

Services are not listed here; ``ServiceRoutingMiddleware`` resolves each
against its own URLconf. The composed API of all services (``/openapi.json``,
``/docs``, ``/graphql``, ``/graphiql``) is answered here, whether or not a
gateway service exists, and before the entrypoint. Unknown paths answer the
JSON 404.
"""

from django.contrib import admin
from django.contrib.auth.views import LoginView, LogoutView
from django.urls import path
from django.views.generic import RedirectView

from platform_core import exceptions as errors
from platform_core.gateway import views
from platform_core.gateway.routing.urlconfs import NO_ROUTE

urlpatterns = [
    path("_joule/", views.dashboard, name="joule-dashboard"),
    path("_joule/health", views.health, name="joule-health"),
    path("_joule/ready", views.ready, name="joule-ready"),
    path(
        "_joule/login",
        LoginView.as_view(template_name="joule/login.html"),
        name="joule-login",
    ),
    path("_joule/logout", LogoutView.as_view(), name="joule-logout"),
    path("admin", RedirectView.as_view(url="/admin/", permanent=True)),
    path("admin/", admin.site.urls),
    *views.composed_patterns(""),
    NO_ROUTE,
]

handler400 = errors.rejected_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
