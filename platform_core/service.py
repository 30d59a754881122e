"""``ServiceAppConfig``: the Django app of one service, bound to its spec.

A service folder needs no ``apps.py``; when it has one, its config class
subclasses ``ServiceAppConfig``::

    class OrdersConfig(ServiceAppConfig):
        name = "services.orders"
        label = "orders"
"""

from __future__ import annotations

from django.apps import AppConfig

from platform_core.config import get_config
from platform_core.config.types import ServiceSpec


class ServiceAppConfig(AppConfig):
    """The Django app of a service; ``spec`` is its ServiceSpec."""

    default_auto_field = "django.db.models.BigAutoField"

    @property
    def spec(self) -> ServiceSpec:
        """Return this service's spec from the platform configuration."""
        for spec in get_config().services:
            if spec.label == self.label:
                return spec
        raise LookupError(f"No service has the app label '{self.label}'.")
