"""Database connections: the platform's and one per db service that names its own.

``settings.py`` builds ``DATABASES`` here; a db service with ``connection``
gets the alias ``joule_<label>``, the others share ``default``::

    DATABASES = databases(config)
    alias_for(config.get_service("legacy-db"))   # "joule_legacy_db"
"""

from __future__ import annotations

from pathlib import Path

import environ

from platform_core.config.types import PlatformConfig, ServiceSpec
from platform_core.exceptions import ConfigError

SQLITE_ENGINE = "django.db.backends.sqlite3"


def alias_for(spec: ServiceSpec) -> str:
    """Return the database alias a db service's tables live in."""
    connection = getattr(spec.options, "connection", None)
    return f"joule_{spec.label}" if connection else "default"


def database_settings(url: str, root: Path, where: str = "database.url") -> dict:
    """Return a DATABASES entry for ``url``, tuned for each engine.

    SQLite gets WAL, a busy timeout and IMMEDIATE transactions so that
    concurrent writers wait instead of failing with "database is locked";
    MariaDB/MySQL gets strict mode so bad values fail instead of being cut.
    Raise ConfigError naming ``where`` for a URL of an unknown scheme.
    """
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # django-environ raises several types
        raise ConfigError(f"{where}: cannot read database URL {url!r}: {exc}") from None
    if not config.get("ENGINE"):
        raise ConfigError(
            f"{where}: unknown database URL scheme in {url!r}; use "
            "sqlite:///path, postgres://... or mysql://..."
        )
    # Keep connections between requests (one per worker thread); checked
    # before reuse, so a database that went away is reconnected.
    config.setdefault("CONN_MAX_AGE", 300)
    config.setdefault("CONN_HEALTH_CHECKS", True)
    tune = _TUNING.get(config["ENGINE"])
    if tune:
        tune(config, root)
    return config


def _sqlite(config: dict, root: Path) -> None:
    # Django's backend, with writers queued on a lock instead of sleeping.
    config["ENGINE"] = "platform_core.db.backends.sqlite3"
    if config["NAME"] != ":memory:":
        name = Path(config["NAME"])
        config["NAME"] = str(name if name.is_absolute() else root / name)
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    config.setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )


def _mysql(config: dict, root: Path) -> None:
    config.setdefault("OPTIONS", {}).update(
        {
            "charset": "utf8mb4",
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES,NO_ZERO_DATE'",
        }
    )


def _postgres(config: dict, root: Path) -> None:
    pass


_TUNING = {
    SQLITE_ENGINE: _sqlite,
    "django.db.backends.mysql": _mysql,
    "django.db.backends.postgresql": _postgres,
}


def databases(config: PlatformConfig) -> dict[str, dict]:
    """Return DATABASES: the platform database and each service's own."""
    result = {"default": database_settings(config.database.url, config.root)}
    for spec in config.services:
        connection = getattr(spec.options, "connection", None)
        if connection:
            result[alias_for(spec)] = database_settings(
                connection, config.root, f"{spec.source}: db.connection"
            )
    return result


class ServiceDatabaseRouter:
    """Send a db service's models to its own database; Django's to default."""

    def _alias(self, app_label: str) -> str | None:
        from platform_core.registry import services

        for spec in services:
            if spec.label == app_label:
                return alias_for(spec)
        return None

    def db_for_read(self, model, **hints):
        """Return the alias of the model's service, if it has one."""
        return self._alias(model._meta.app_label)

    db_for_write = db_for_read

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        """Keep Django's own migrations on the platform database."""
        alias = self._alias(app_label)
        return db == (alias or "default")
