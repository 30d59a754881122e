"""The ``service`` kind: custom Django/DRF code served under its prefix.

``urls.py`` is served under the prefix, ``routing.py``'s
``websocket_urlpatterns`` under the same prefix for websockets::

    # services/hello/urls.py
    urlpatterns = [path("", views.hello)]    # GET /hello/
"""

from __future__ import annotations

from platform_core.registry.kinds import Kind


class ServiceKind(Kind):
    """Custom Django views, DRF views and Channels consumers."""

    name = "service"
    description = "custom Django/DRF code"
