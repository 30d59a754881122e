"""A URLconf of every db service's generated API, under its prefix.

For drf-spectacular's command, which reads one URLconf::

    python manage.py spectacular --urlconf platform_core.rest.document_urls \\
        --validate --fail-on-warn --file openapi.yml
"""

from __future__ import annotations

from django.urls import include, path


def __getattr__(name: str):
    if name != "urlpatterns":
        raise AttributeError(name)
    from platform_core.registry import kinds, services

    return [
        path(spec.prefix.lstrip("/") + "/", include(kinds.get("db").urlpatterns(spec)))
        for spec in services
        if spec.kind == "db"
    ]
