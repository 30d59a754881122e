"""Build every frontend ahead of start, as the platform would at start.

The image's build (deploy/build.sh) runs this, so a container starts with
each Node app installed and built: for each frontend service, ``npm ci``
then its ``build`` command, with ``BASE_PATH`` = the service prefix and the
build stamp ``node.prepare`` leaves, so the start finds nothing stale::

    python -m platform_core.runtime.build /app     # JOULE_ROOT, else "."

Only the configuration is read: Django's settings are not loaded, so no
secret key or database file is written.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from platform_core.config import load_config, override_config, project_root
from platform_core.exceptions import ConfigError
from platform_core.runtime import node

log = logging.getLogger("joule.build")


def build_frontends(root: Path) -> list[str]:
    """Install and build each frontend service of ``root``; return their ids.

    Raise node.FrontendError when an install or a build fails.
    """
    config = load_config(root)
    built = []
    with override_config(config):
        for spec in config.services:
            if spec.kind != "frontend":
                continue
            app_dir = config.root / spec.options.path
            env = node.node_env(0, spec.prefix, "production", app_dir)
            node.prepare(app_dir, spec.options.build, env, log)
            built.append(spec.id)
    return built


def main(argv: list[str]) -> int:
    """Build the frontends of the project in ``argv[0]``; return the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    root = Path(argv[0]) if argv else project_root()
    try:
        built = build_frontends(root)
    except (ConfigError, node.FrontendError) as exc:
        log.error("build failed: %s", exc)
        return 1
    log.info("frontends built: %s", ", ".join(built) or "none")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
