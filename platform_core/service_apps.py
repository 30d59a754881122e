"""App config classes of the services, built on first access by app label.

``INSTALLED_APPS`` names ``platform_core.service_apps.<label>``; Django's
``AppConfig.create`` then reads the attribute below. A service's own
``apps.py`` subclass of ``ServiceAppConfig`` is used when it has one::

    from platform_core.service_apps import orders   # -> OrdersConfig
"""

from __future__ import annotations

import functools
import inspect

from platform_core.config import get_config
from platform_core.registry.kinds import import_optional
from platform_core.service import ServiceAppConfig


@functools.cache
def _app_config_class(label: str) -> type[ServiceAppConfig]:
    spec = next((s for s in get_config().services if s.label == label), None)
    if spec is None:
        raise AttributeError(f"No service has the app label '{label}'.")
    own = import_optional(spec.module + ".apps")
    for value in vars(own).values() if own else ():
        if (
            inspect.isclass(value)
            and issubclass(value, ServiceAppConfig)
            and value is not ServiceAppConfig
        ):
            return value
    name = "".join(part.title() for part in spec.id.split("-")) + "Config"
    return type(
        name,
        (ServiceAppConfig,),
        {
            "__module__": spec.module,
            "__qualname__": name,
            "name": spec.module,
            "label": spec.label,
            "verbose_name": spec.id,
            "path": str(spec.folder),
        },
    )


def __getattr__(label: str) -> type[ServiceAppConfig]:
    if label.startswith("__"):
        raise AttributeError(label)
    return _app_config_class(label)
