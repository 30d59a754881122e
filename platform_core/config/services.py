"""What a service.toml may hold, per kind: the options and their readers.

Each kind's keys are read into a frozen dataclass by a reader registered
under the kind's name; ``config.loader`` calls it for every service::

    option_readers.get("db")(reader, "orders")   # -> DbOptions(...)
    option_readers.register("cron", read_cron_options)  # a new kind's keys

The kinds themselves (what a service of each kind serves) are assembled in
``platform_core.kinds`` from these options.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platform_core import naming
from platform_core.config.authorization import AuthorizationOptions, read_authorization
from platform_core.config.reader import TableReader
from platform_core.exceptions import (
    AlreadyRegistered,
    ConfigError,
    NotRegistered,
    did_you_mean,
)

# Paths the platform itself answers; no service may be mounted there.
RESERVED_PREFIXES = ("/_joule", "/admin", "/static", "/metrics")
# The composed API of all services (gateway.views), answered at the root.
COMPOSED_PATHS = ("/openapi.json", "/docs", "/graphql", "/graphiql")
APP_RE = re.compile(r"^[A-Za-z_][\w.-]*:[A-Za-z_][\w.]*$")


def check_prefix(prefix: str, where: str) -> None:
    """Raise ConfigError naming ``where`` unless ``prefix`` is a usable prefix."""
    if not naming.PREFIX_RE.match(prefix):
        raise ConfigError(
            f"{where}: {prefix!r} must be a path like '/orders' "
            "(starting with '/', no trailing '/')"
        )
    for reserved in RESERVED_PREFIXES:
        if prefix == reserved or prefix.startswith(reserved + "/"):
            raise ConfigError(
                f"{where}: {prefix!r} is reserved for the platform "
                f"({', '.join(RESERVED_PREFIXES)})"
            )
    if prefix in COMPOSED_PATHS:
        raise ConfigError(
            f"{where}: {prefix!r} is where the platform serves the composed API "
            f"({', '.join(COMPOSED_PATHS)})"
        )


@dataclass(frozen=True)
class Webhook:
    """One ``[[webhooks]]`` entry of a db service."""

    # entity: the entity whose events are sent, or "*" for all.
    entity: str
    # url: where each event is POSTed.
    url: str
    # events: which of "saved" and "deleted" are sent.
    events: tuple[str, ...] = ("saved", "deleted")
    # secret: when set, X-JOULE-SIGNATURE is "sha256=" + HMAC of the body.
    secret: str | None = None
    # retries: attempts after the first failed one.
    retries: int = 5
    # backoff: seconds before the first retry; doubled for each next one.
    backoff: float = 0.5
    # timeout: seconds one attempt may take.
    timeout: float = 5.0

    def wants(self, entity: str, action: str) -> bool:
        """Return whether this webhook sends ``action`` events of ``entity``."""
        return self.entity in ("*", entity) and action in self.events


@dataclass(frozen=True)
class DbOptions:
    """``[db]`` of a db service's service.toml."""

    # connection: a database URL; None means the platform database.
    connection: str | None = None
    # autoApply: apply migrations/NNN.do.sql at start.
    auto_apply: bool = True
    # limit: default and maximum page size of generated lists.
    limit_default: int = 10
    limit_max: int = 100
    # events: publish <service>.<entity>.saved|deleted on every write.
    events: bool = True
    # webhooks: [[webhooks]] entries; each event is POSTed to the matching ones.
    webhooks: tuple[Webhook, ...] = ()
    # authorization: [authorization] (identity and rules); None means open.
    authorization: AuthorizationOptions | None = None
    # connect_timeout / statement_timeout: seconds, for a service with its
    # own `connection`; None means joule.toml's [database] values
    # (connect_timeout = 5, statement_timeout = 30). Past them: 503 / 504.
    connect_timeout: float | None = None
    statement_timeout: float | None = None
    # idempotency: seconds a POST's answer is kept for a retry with the same
    # Idempotency-Key (`idempotency = { ttl = 3600 }`); None: `false`, off.
    idempotency_ttl: float | None = 86400.0


def _idempotency(db: TableReader) -> float | None:
    """Read ``[db] idempotency``: true, false or ``{ ttl = <seconds> }``."""
    value = db.get("idempotency", (bool, dict), True)
    if value is True or value is False:
        return 86400.0 if value else None
    table = db.table("idempotency")
    enabled = table.get("enabled", bool, True)
    ttl = read_timeout(table, "ttl", 86400.0)
    table.finish()
    return ttl if enabled else None


def read_timeout(table: TableReader, key: str, default: Any) -> Any:
    """Return the number of seconds under ``key``; raise ConfigError unless > 0."""
    value = table.get(key, (int, float), default)
    if value is not None and value <= 0:
        raise ConfigError(f"{table.where(key)}: must be more than 0 seconds")
    return None if value is None else float(value)


def _own_timeouts(db: TableReader, connection: str | None) -> dict:
    """Read ``[db]`` connect_timeout and statement_timeout.

    Raise ConfigError when they are set without a ``connection`` of the
    service's own: the platform database's are in joule.toml.
    """
    timeouts = {
        key: read_timeout(db, key, None)
        for key in ("connect_timeout", "statement_timeout")
    }
    for key, value in timeouts.items():
        if value is not None and connection is None:
            raise ConfigError(
                f"{db.where(key)}: only a service with its own db.connection has "
                f"its own timeouts; the platform database's are [database] "
                f"{key} in joule.toml"
            )
    return timeouts


def _webhook(table: TableReader) -> Webhook:
    """Read one ``[[webhooks]]`` table."""
    events = table.get("events", list, ["saved", "deleted"])
    webhook = Webhook(
        entity=table.get("entity", str),
        url=table.get("url", str),
        events=tuple(events),
        secret=table.get("secret", str, None),
        retries=table.get("retries", int, 5),
        backoff=float(table.get("backoff", (int, float), 0.5)),
        timeout=float(table.get("timeout", (int, float), 5.0)),
    )
    table.finish()
    if not webhook.url.startswith(("http://", "https://")):
        raise ConfigError(
            f"{table.where('url')}: {webhook.url!r} must start with http:// or https://"
        )
    unknown = [e for e in events if e not in ("saved", "deleted")]
    if unknown or not events:
        raise ConfigError(
            f'{table.where("events")}: {events!r} must list "saved" and/or "deleted"'
        )
    if webhook.retries < 0 or webhook.backoff < 0 or webhook.timeout <= 0:
        raise ConfigError(
            f"{table.where('retries')}: retries and backoff must be 0 or more "
            f"and timeout more than 0"
        )
    return webhook


def read_db_options(reader: TableReader, service_id: str) -> DbOptions:
    """Read the ``[db]`` table."""
    db = reader.table("db")
    limit = db.table("limit")
    connection = db.get("connection", str, None)
    options = DbOptions(
        connection=connection,
        auto_apply=db.get("autoApply", bool, True),
        limit_default=limit.get("default", int, 10),
        limit_max=limit.get("max", int, 100),
        events=db.get("events", bool, True),
        webhooks=tuple(_webhook(t) for t in reader.tables("webhooks")),
        authorization=read_authorization(reader),
        **_own_timeouts(db, connection),
        idempotency_ttl=_idempotency(db),
    )
    limit.finish()
    db.finish()
    if not 0 < options.limit_default <= options.limit_max:
        raise ConfigError(
            f"{limit.where('default')}: must be between 1 and "
            f"limit.max ({options.limit_max})"
        )
    return options


@dataclass(frozen=True)
class Upstream:
    """An external HTTP service proxied under ``prefix``."""

    # prefix: where the upstream is mounted, like a service prefix.
    prefix: str
    # url: the upstream's base URL; requests go to url + the path below prefix.
    url: str
    # openapi: its OpenAPI document, merged into /openapi.json (None: not merged).
    openapi: str | None = None
    # timeout: seconds the proxy waits to connect and for each read and write.
    timeout: float = 30.0

    @property
    def openapi_url(self) -> str | None:
        """Return the absolute URL of the OpenAPI document, or None."""
        if self.openapi is None or "://" in self.openapi:
            return self.openapi
        return self.url.rstrip("/") + self.openapi

    @property
    def name(self) -> str:
        """Return its name in composed documents: ``/ext/v1`` -> ``ext-v1``."""
        return "-".join(naming.words(self.prefix))


@dataclass(frozen=True)
class GatewayOptions:
    """The ``gateway`` kind's keys of service.toml."""

    upstreams: tuple[Upstream, ...] = ()

    @property
    def extra_prefixes(self) -> tuple[str, ...]:
        """Return the upstreams' prefixes, routed to the gateway too."""
        return tuple(upstream.prefix for upstream in self.upstreams)


def _upstream(table: TableReader) -> Upstream:
    """Read one ``[[upstreams]]`` table."""
    prefix = table.get("prefix", str)
    check_prefix(prefix, table.where("prefix"))
    url = table.get("url", str)
    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"{table.where('url')}: {url!r} must start with http:// or https://"
        )
    openapi = table.get("openapi", str, None)
    if openapi is not None and not openapi.startswith(("/", "http://", "https://")):
        raise ConfigError(
            f"{table.where('openapi')}: {openapi!r} must be a path under url "
            "(like '/openapi.json') or an http(s) URL"
        )
    timeout = float(table.get("timeout", (int, float), 30.0))
    if timeout <= 0:
        raise ConfigError(f"{table.where('timeout')}: must be above 0 seconds")
    table.finish()
    return Upstream(prefix, url, openapi, timeout)


def read_gateway_options(reader: TableReader, service_id: str) -> GatewayOptions:
    """Read ``[[upstreams]]``: prefix, url, optional openapi and timeout."""
    upstreams = tuple(_upstream(table) for table in reader.tables("upstreams"))
    return GatewayOptions(upstreams)


@dataclass(frozen=True)
class FrontendOptions:
    """``[frontend]`` of a frontend service's service.toml."""

    # path: the Node app's folder, relative to the project root.
    path: str
    # command: starts the built app in production; gets PORT and BASE_PATH.
    command: str = "npm run start"
    # build: builds the app before start ("" for none).
    build: str = ""
    # dev: the development server used by runserver ("" means `command`).
    dev: str = ""
    # port: the loopback port to run on; 0 picks a free one.
    port: int = 0
    # health: a path answering 2xx once the app is up (under the prefix).
    health: str = "/"
    # timeout: seconds the proxy waits to connect, for each read and write
    # (a slower app gets 504).
    timeout: float = 30.0
    # static: [[frontend.static]] (path, folder, immutable): built files the
    # platform serves from disk in production instead of asking Node.
    static: tuple[tuple[str, str, bool], ...] = ()


def _static(table: TableReader) -> tuple[str, str, bool]:
    """Read one ``[[frontend.static]]``: path, folder, immutable."""
    entry = (
        table.get("path", str),
        table.get("folder", str),
        table.get("immutable", bool, False),
    )
    table.finish()
    path, folder, _ = entry
    if not path.startswith("/") or not path.endswith("/"):
        raise ConfigError(f"{table.where('path')}: must start and end with '/'")
    if folder.startswith("/") or ".." in Path(folder).parts:
        raise ConfigError(
            f"{table.where('folder')}: must be a folder inside the app's folder"
        )
    return entry


def read_frontend_options(reader: TableReader, service_id: str) -> FrontendOptions:
    """Read the ``[frontend]`` table."""
    table = reader.table("frontend")
    options = FrontendOptions(
        path=table.get("path", str, f"proxied_frontends/{service_id}"),
        command=table.get("command", str, "npm run start"),
        build=table.get("build", str, ""),
        dev=table.get("dev", str, ""),
        port=table.get("port", int, 0),
        health=table.get("health", str, "/"),
        timeout=float(table.get("timeout", (int, float), 30.0)),
        static=tuple(_static(t) for t in table.tables("static")),
    )
    table.finish()
    if not 0 <= options.port < 65536:
        raise ConfigError(f"{table.where('port')}: {options.port} is not a port")
    if not options.health.startswith("/"):
        raise ConfigError(f"{table.where('health')}: must start with '/'")
    if options.timeout <= 0:
        raise ConfigError(f"{table.where('timeout')}: must be above 0 seconds")
    return options


@dataclass(frozen=True)
class WsgiOptions:
    """The ``wsgi`` kind's keys of service.toml."""

    # app: "module:callable" of the application.
    app: str
    # interface: "wsgi" (wrapped for ASGI with a2wsgi) or "asgi".
    interface: str = "wsgi"
    # where: the key path named in import errors.
    where: str = ""


def import_app(dotted: str, where: str) -> Any:
    """Import ``"module:callable"``; raise ConfigError naming ``where``."""
    module_name, _, attr = dotted.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{where}: cannot import {dotted!r}: {exc}") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            names = [name for name in dir(obj) if not name.startswith("_")]
            raise ConfigError(
                f"{where}: cannot import {dotted!r}: {exc}." + did_you_mean(part, names)
            ) from None
    if not callable(obj):
        raise ConfigError(f"{where}: {dotted!r} is not callable")
    return obj


def read_wsgi_options(reader: TableReader, service_id: str) -> WsgiOptions:
    """Read ``app`` and ``interface``."""
    app = reader.get("app", str)
    if not APP_RE.match(app):
        raise ConfigError(
            f"{reader.where('app')}: {app!r} must look like 'package.module:callable'"
        )
    interface = reader.get("interface", str, "wsgi", choices=("wsgi", "asgi"))
    return WsgiOptions(app, interface, reader.where("app"))


def read_no_options(reader: TableReader, service_id: str) -> None:
    """Read nothing: the ``service`` kind has no keys of its own."""
    return None


OptionReader = Callable[[TableReader, str], Any]


class OptionReaders:
    """The kinds a service.toml may name, each with the reader of its keys."""

    def __init__(self) -> None:
        self._readers: dict[str, OptionReader] = {}

    def register(self, kind: str, reader: OptionReader) -> OptionReader:
        """Register ``reader`` for ``kind``; raise AlreadyRegistered if taken."""
        if kind in self._readers:
            raise AlreadyRegistered(f"The kind '{kind}' already has an option reader.")
        self._readers[kind] = reader
        return reader

    def unregister(self, kind: str) -> None:
        """Unregister the reader of ``kind``; raise NotRegistered if none."""
        self.get(kind)
        del self._readers[kind]

    def is_registered(self, kind: str) -> bool:
        """Return whether ``kind`` has a reader."""
        return kind in self._readers

    def get(self, kind: str) -> OptionReader:
        """Return the reader of ``kind``; raise NotRegistered if unknown."""
        try:
            return self._readers[kind]
        except KeyError:
            raise NotRegistered(
                f"No kind '{kind}'. Kinds: {', '.join(self.names()) or 'none'}."
                + did_you_mean(kind, self._readers)
            ) from None

    def names(self) -> tuple[str, ...]:
        """Return the kind names in registration order."""
        return tuple(self._readers)


option_readers = OptionReaders()
for _kind, _reader in (
    ("db", read_db_options),
    ("service", read_no_options),
    ("gateway", read_gateway_options),
    ("frontend", read_frontend_options),
    ("wsgi", read_wsgi_options),
):
    option_readers.register(_kind, _reader)
