"""Typed reading of one TOML table, with errors a user can act on.

The loader and every kind read their keys through a ``TableReader``; keys
nobody read are reported by ``finish()``, so a typo never passes silently::

    server = TableReader(data.get("server", {}), "joule.toml", "server")
    port = server.get("port", int, default=8000)
    server.finish()   # "joule.toml: unknown key 'server.prot'. ... 'port'?"
"""

from __future__ import annotations

from typing import Any

from platform_core.config.env import substitute
from platform_core.exceptions import ConfigError, did_you_mean

REQUIRED = object()
_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    bool: "true or false",
    list: "a list",
    dict: "a table",
    float: "a number",
}


def _type_name(types: tuple[type, ...]) -> str:
    return " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)


def _is_instance(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)


class TableReader:
    """Read keys of one TOML table by name, type and allowed values."""

    def __init__(self, data: Any, file: str, path: str = "") -> None:
        if not isinstance(data, dict):
            where = f"{file}: {path}" if path else file
            raise ConfigError(f"{where}: expected a table, got {data!r}")
        self.data = data
        self.file = file
        self.path = path
        self.read: list[str] = []

    def where(self, key: str) -> str:
        """Return ``"file: table.key"`` for messages about ``key``."""
        return f"{self.file}: {self.path + '.' if self.path else ''}{key}"

    def get(
        self,
        key: str,
        types: type | tuple[type, ...],
        default: Any = REQUIRED,
        choices: tuple[str, ...] | None = None,
    ) -> Any:
        """Return the value of ``key`` after checking its type and choices.

        Strings have their ``{ENV_NAME}`` placeholders filled in. Raise
        ConfigError when a required key is missing, the type is wrong or the
        value is not one of ``choices``.
        """
        types = types if isinstance(types, tuple) else (types,)
        self.read.append(key)
        if key not in self.data:
            if default is REQUIRED:
                raise ConfigError(f"{self.where(key)}: required key is missing")
            return default
        value = self.data[key]
        if not _is_instance(value, types):
            raise ConfigError(
                f"{self.where(key)}: expected {_type_name(types)}, got {value!r}"
            )
        if isinstance(value, str):
            value = substitute(value, self.where(key))
        if choices is not None and value not in choices:
            raise ConfigError(
                f"{self.where(key)}: {value!r} is not one of {', '.join(choices)}."
                + did_you_mean(str(value), choices)
            )
        return value

    def get_list(self, key: str, item: type, default: Any = REQUIRED) -> tuple:
        """Return a list of ``item`` values as a tuple."""
        values = self.get(key, list, default=default)
        if values is default:
            return default
        for index, value in enumerate(values):
            if not _is_instance(value, (item,)):
                raise ConfigError(
                    f"{self.where(key)}[{index}]: expected {_type_name((item,))},"
                    f" got {value!r}"
                )
        return tuple(
            substitute(v, self.where(key)) if isinstance(v, str) else v for v in values
        )

    def table(self, key: str) -> TableReader:
        """Return a reader of sub-table ``key`` (empty when it is missing)."""
        self.read.append(key)
        sub_path = f"{self.path}.{key}" if self.path else key
        return TableReader(self.data.get(key, {}), self.file, sub_path)

    def tables(self, key: str) -> list[TableReader]:
        """Return readers of the array of tables ``[[key]]``."""
        items = self.get(key, list, default=[])
        sub_path = f"{self.path}.{key}" if self.path else key
        return [
            TableReader(item, self.file, f"{sub_path}[{i}]")
            for i, item in enumerate(items)
        ]

    def finish(self) -> None:
        """Raise ConfigError for the first key that no one read."""
        for key in self.data:
            if key not in self.read:
                allowed = ", ".join(self.read) or "none"
                raise ConfigError(
                    f"{self.where(key)}: unknown key. Allowed keys here: {allowed}."
                    + did_you_mean(key, self.read)
                )
