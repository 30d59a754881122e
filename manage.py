#!/usr/bin/env python3
"""Joule's command line: Django's manage.py plus the platform's commands."""

import os
import sys
from pathlib import Path


def main() -> None:
    """Run a management command; print configuration mistakes without a traceback."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_core.settings")
    os.environ.setdefault("JOULE_ROOT", str(Path(__file__).resolve().parent))
    if len(sys.argv) > 1 and sys.argv[1] == "runserver":
        os.environ.setdefault("JOULE_DEBUG", "1")
    from django.core.management import execute_from_command_line

    from platform_core.exceptions import ConfigError

    try:
        execute_from_command_line(sys.argv)
    except ConfigError as exc:
        sys.stderr.write(f"Configuration error: {exc}\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
