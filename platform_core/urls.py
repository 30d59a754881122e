"""The platform's own URLconf: /_joule/ (dashboard, health, login) and /admin/.

Services are not listed here; ``ServiceRoutingMiddleware`` resolves each
against its own URLconf. Unknown paths answer the JSON 404.
"""

from django.contrib import admin
from django.contrib.auth.views import LoginView, LogoutView
from django.urls import path

from platform_core.gateway import errors, views
from platform_core.gateway.routing import NO_ROUTE

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
    path("admin/", admin.site.urls),
    NO_ROUTE,
]

handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
