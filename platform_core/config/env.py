"""Environment variables, ``.env`` and ``{ENV_NAME}`` placeholders.

The only module that reads ``os.environ``. ``.env`` in the project root is
read once; variables already set in the environment win over it::

    load_dotenv(root)
    env("JOULE_DEBUG", cast=bool, default=False)
    substitute("postgres://{PGUSER}@db/app", where="joule.toml: database.url")
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from platform_core.exceptions import ConfigError

PLACEHOLDER_RE = re.compile(r"\{([A-Z_][A-Z0-9_]*)\}")
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}
_MISSING = object()
_loaded: set[Path] = set()


def load_dotenv(root: Path) -> None:
    """Read ``root/.env`` into the environment once, keeping existing values."""
    path = Path(root) / ".env"
    if path in _loaded or not path.is_file():
        return
    _loaded.add(path)
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not key.strip().isidentifier():
            raise ConfigError(f"{path.name}:{number}: expected KEY=value, got {line!r}")
        os.environ.setdefault(key.strip(), _unquote(value.strip()))


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _to_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    raise ValueError(f"expected one of {sorted(TRUE | FALSE - {''})}")


def env(key: str, cast: Callable[[str], Any] = str, default: Any = _MISSING) -> Any:
    """Return environment variable ``key`` converted by ``cast``.

    ``cast=bool`` accepts only 1/0, true/false, yes/no, on/off (empty is
    false). Raise
    ConfigError naming the key when it is missing with no default, or when
    its value does not convert.
    """
    raw = os.environ.get(key)
    if raw is None:
        if default is _MISSING:
            raise ConfigError(f"environment variable {key} is not set")
        return default
    try:
        return _to_bool(raw) if cast is bool else cast(raw)
    except ValueError as exc:
        raise ConfigError(f"environment variable {key}={raw!r}: {exc}") from None


def substitute(value: str, where: str) -> str:
    """Replace ``{ENV_NAME}`` placeholders in ``value`` from the environment.

    Raise ConfigError naming ``where`` and the variable when it is not set.
    """

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ConfigError(
                f"{where}: environment variable {name} is not set "
                f"(set it, or add it to .env)"
            )
        return os.environ[name]

    return PLACEHOLDER_RE.sub(replace, value)
