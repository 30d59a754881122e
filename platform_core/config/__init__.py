"""The platform configuration, loaded once and cached.

Library code reads it lazily, inside functions::

    from platform_core.config import get_config
    get_config().get_service("orders")

    with override_config(load_config(tmp_path)):   # in tests
        ...
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from platform_core.config.env import env
from platform_core.config.loader import load_config
from platform_core.config.types import PlatformConfig, ServiceSpec

__all__ = [
    "PlatformConfig",
    "ServiceSpec",
    "get_config",
    "load_config",
    "override_config",
    "project_root",
]

_config: PlatformConfig | None = None


def project_root() -> Path:
    """Return the project folder: env JOULE_ROOT, else the working directory."""
    return Path(env("JOULE_ROOT", default=str(Path.cwd()))).resolve()


def get_config() -> PlatformConfig:
    """Return the platform configuration, loading it on first use."""
    global _config
    if _config is None:
        _config = load_config(project_root())
    return _config


@contextlib.contextmanager
def override_config(config: PlatformConfig) -> Iterator[PlatformConfig]:
    """Use ``config`` as the platform configuration inside the block."""
    global _config
    previous, _config = _config, config
    try:
        yield config
    finally:
        _config = previous
