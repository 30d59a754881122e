"""Database connections: the platform's and one per db service that names its own.

``settings.py`` builds ``DATABASES`` here; a db service with ``connection``
gets the alias ``joule_<label>``, the others share ``default``::

    DATABASES = databases(config)
    alias_for(config.get_service("legacy-db"))   # "joule_legacy_db"
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path

import environ

from platform_core.config.types import PlatformConfig, ServiceSpec
from platform_core.exceptions import ConfigError

SQLITE_ENGINE = "django.db.backends.sqlite3"
POSTGRES_ENGINE = "django.db.backends.postgresql"
# Seconds past the statement timeout after which a server that sent nothing
# (frozen, unreachable) is given up; the server's own cancel comes first.
ANSWER_GRACE = 1.0


@dataclass(frozen=True)
class Timeouts:
    """How long a database may take: to connect, and to run one statement.

    In seconds. ``answer`` is what the client waits for any reply before
    it gives the connection up (the server's own timeout, then a grace).
    """

    connect: float = 5.0
    statement: float = 30.0

    @property
    def answer(self) -> float:
        """Return the seconds to wait for any reply of the server."""
        return self.statement + ANSWER_GRACE

    @property
    def request(self) -> float:
        """Return the most a request's database work may take.

        A dead connection found by the health check, a reconnection and
        one statement: past that, the request is answered 504.
        """
        return self.answer * 2 + self.connect


def alias_for(spec: ServiceSpec) -> str:
    """Return the database alias a db service's tables live in."""
    connection = getattr(spec.options, "connection", None)
    return f"joule_{spec.label}" if connection else "default"


def database_settings(
    url: str,
    root: Path,
    where: str = "database.url",
    timeouts: Timeouts = Timeouts(),  # noqa: B008 (frozen)
) -> dict:
    """Return a DATABASES entry for ``url``, tuned for each engine.

    SQLite gets WAL, a busy timeout and IMMEDIATE transactions so that
    concurrent writers wait instead of failing with "database is locked";
    MariaDB/MySQL gets strict mode so bad values fail instead of being cut.
    PostgreSQL and MariaDB get ``timeouts``: a connect timeout (then 503),
    a statement timeout on the server (then 504) and a limit on the wait
    for any answer, so a frozen server never holds a thread for long.
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
        tune(config, root, timeouts)
    config["JOULE_TIMEOUTS"] = timeouts
    return config


def timeouts_of(alias: str) -> Timeouts:
    """Return the timeouts of connection ``alias`` (the defaults if unset)."""
    from django.db import connections

    return connections.settings[alias].get("JOULE_TIMEOUTS") or Timeouts()


def _sqlite(config: dict, root: Path, timeouts: Timeouts) -> None:
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


def _mysql(config: dict, root: Path, timeouts: Timeouts) -> None:
    require_extra("MySQLdb", "mysql", "a mysql:// database", MYSQL_HEADERS)
    # max_statement_time is MariaDB's (seconds); the /*M! */ comment is run
    # by MariaDB only, so MySQL still connects (with the read limit alone).
    config.setdefault("OPTIONS", {}).update(
        {
            "charset": "utf8mb4",
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES,NO_ZERO_DATE'"
            f" /*M!, max_statement_time={timeouts.statement:g} */",
            "connect_timeout": math.ceil(timeouts.connect),
            "read_timeout": math.ceil(timeouts.answer),
            "write_timeout": math.ceil(timeouts.answer),
        }
    )


def _postgres(config: dict, root: Path, timeouts: Timeouts) -> None:
    # Django's backend with each wait for the server bounded (answer_timeout).
    config["ENGINE"] = "platform_core.db.backends.postgresql"
    options = config.setdefault("OPTIONS", {})
    milliseconds = round(timeouts.statement * 1000)
    server = f"{options.get('options', '')} -c statement_timeout={milliseconds}"
    options.update(
        {
            "connect_timeout": max(2, math.ceil(timeouts.connect)),
            "options": server.strip(),
            "answer_timeout": timeouts.answer,
        }
    )


# Debian packages the optional extras compile against.
MYSQL_HEADERS = "default-libmysqlclient-dev pkg-config"
LDAP_HEADERS = "libldap2-dev libsasl2-dev"


def require_extra(module: str, extra: str, feature: str, headers: str) -> None:
    """Raise ConfigError saying how to install the extra ``feature`` needs.

    The mysql and ldap extras compile against system headers, so neither
    ``pip install joule`` nor ``dev.py run`` installs them by default.
    """
    if importlib.util.find_spec(module) is None:
        raise ConfigError(
            f"{feature} needs the '{extra}' extra, which is not installed: "
            f"apt-get install {headers}, then pip install 'joule[{extra}]' "
            f"(in this checkout: .venv/bin/pip install -e '.[{extra}]')"
        )


_TUNING = {
    SQLITE_ENGINE: _sqlite,
    "django.db.backends.mysql": _mysql,
    POSTGRES_ENGINE: _postgres,
}


def databases(config: PlatformConfig) -> dict[str, dict]:
    """Return DATABASES: the platform database and each service's own."""
    platform = config.database
    timeouts = Timeouts(platform.connect_timeout, platform.statement_timeout)
    result = {
        "default": database_settings(platform.url, config.root, timeouts=timeouts)
    }
    for spec in config.services:
        connection = getattr(spec.options, "connection", None)
        if connection:
            result[alias_for(spec)] = database_settings(
                connection,
                config.root,
                f"{spec.source}: db.connection",
                service_timeouts(spec, timeouts),
            )
    return result


def service_timeouts(spec: ServiceSpec, platform: Timeouts) -> Timeouts:
    """Return a db service's timeouts: its own [db] values, else ``platform``."""
    connect = getattr(spec.options, "connect_timeout", None)
    statement = getattr(spec.options, "statement_timeout", None)
    return Timeouts(connect or platform.connect, statement or platform.statement)


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
