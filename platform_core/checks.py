"""System checks of the platform: what is found wrong after loading.

``manage.py check`` (and every command that runs checks) lists each mistake
at once, with a stable id and a hint, as Django does for models::

    platform_core.E001: services/shop/service.toml: ...
        HINT: ...

Registered in ``PlatformCoreConfig.ready()``.
"""

from __future__ import annotations


def register_checks() -> None:
    """Register the platform's checks with Django (once)."""
