"""Services found on disk become installed Django apps, with no settings edit.

``settings.py`` asks for the app entries; each names a class that
``platform_core.service_apps`` builds on demand from the service's spec::

    INSTALLED_APPS = [..., *installed_apps(config)]
    # -> ["platform_core.service_apps.orders", ...]
"""

from __future__ import annotations

import sys

from platform_core.config.types import PlatformConfig


def installed_apps(config: PlatformConfig) -> list[str]:
    """Return the INSTALLED_APPS entries of every service in ``config``.

    The project root is put first on ``sys.path`` so ``services.<folder>``
    imports from it.
    """
    root = str(config.root)
    if root not in sys.path:
        sys.path.insert(0, root)
    return [f"platform_core.service_apps.{spec.label}" for spec in config.services]
