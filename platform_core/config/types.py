"""The typed configuration: frozen dataclasses filled by ``config.loader``.

Each field says what it does; TOML spells keys as written in the comment::

    # joule.toml
    entrypoint = "gateway"
    [server]
    port = 8000
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platform_core import naming
from platform_core.exceptions import ServiceNotFound, did_you_mean

DEFAULT_ALLOWED_HOSTS = ("localhost", "127.0.0.1", "[::1]", ".internal")
# Whose forwarded headers gunicorn and uvicorn believe when no proxy is named.
LOOPBACK_PROXIES = "127.0.0.1,::1"


@dataclass(frozen=True)
class ServerConfig:
    """``[server]`` of joule.toml: where the platform listens."""

    # host: the address runserver and the production server bind by default.
    host: str = "127.0.0.1"
    # port: the port they bind; `runserver 0.0.0.0:9000` overrides both.
    port: int = 8000
    # workers: production worker processes (env JOULE_WORKERS overrides).
    workers: int = 1
    # allowed_hosts: Django ALLOWED_HOSTS; ".internal" lets the mesh in.
    allowed_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS
    # https: the public URL is https:// (TLS here or at a proxy in front).
    # Turns on the HTTPS redirect, Secure session and CSRF cookies and HSTS
    # for a year with subdomains. Behind a TLS-terminating proxy set
    # trusted_proxies too, or every request looks like plain HTTP.
    https: bool = False
    # trusted_proxies: the proxies' addresses or networks ("10.0.0.0/8";
    # "*" for any). When set, X-Forwarded-Proto is believed: by Django from
    # any client (SECURE_PROXY_SSL_HEADER cannot be per address), so only
    # the proxies should reach the server; by gunicorn/uvicorn only from
    # these (forwarded_allow_ips below).
    trusted_proxies: tuple[str, ...] = ()
    # header_timeout: seconds a client has to send a request's headers, from
    # connecting or from the previous answer (production worker). A slower
    # client gets 408 and the connection is closed: `header_timeout = 10`.
    header_timeout: float = 10.0

    @property
    def forwarded_allow_ips(self) -> str:
        """Return gunicorn's and uvicorn's ``forwarded_allow_ips``.

        The trusted proxies, comma-separated; with none, only the loopback
        addresses (the servers' own default)::

            forwarded_allow_ips = get_config().server.forwarded_allow_ips
        """
        return ",".join(self.trusted_proxies) or LOOPBACK_PROXIES


@dataclass(frozen=True)
class LoggingConfig:
    """``[logging]`` of joule.toml."""

    # level: the root log level (DEBUG, INFO, WARNING, ERROR).
    level: str = "INFO"
    # format: "json" (one JSON object per line) or "text" for humans.
    format: str = "json"


@dataclass(frozen=True)
class DatabaseConfig:
    """``[database]`` of joule.toml: the platform database."""

    # url: sqlite:///relative/or/absolute/path, postgres://..., mysql://...;
    # env DATABASE_URL wins over it.
    url: str = "sqlite:///var/joule.sqlite3"
    # connect_timeout: seconds to wait for a connection (PostgreSQL waits at
    # least 2); past it, requests get 503. A db service with its own
    # `connection` sets its own in [db].
    connect_timeout: float = 5.0
    # statement_timeout: seconds a statement may run on PostgreSQL or
    # MariaDB; past it, requests get 504. A server that stops answering
    # altogether (frozen, a dead network) is given up a second later.
    statement_timeout: float = 30.0


@dataclass(frozen=True)
class ChannelsConfig:
    """``[channels]`` of joule.toml: the channel layer for events."""

    # redis: a redis:// URL to share events across processes (several
    # workers, machines); unset means the in-memory layer of one process.
    # env REDIS_URL wins over it.
    redis: str | None = None
    # prefix: the channels-redis key prefix; deployments sharing one Redis
    # need different ones. env JOULE_CHANNELS_PREFIX wins over it.
    prefix: str = "joule"


@dataclass(frozen=True)
class GraphQLConfig:
    """``[graphql]`` of joule.toml: limits on every GraphQL document."""

    # max_depth: deepest selection nesting a query may have.
    max_depth: int = 10
    # max_aliases: aliased fields a query may have.
    max_aliases: int = 50
    # max_query_size: characters a query may have (larger: HTTP 413).
    max_query_size: int = 20_000


@dataclass(frozen=True)
class LdapConfig:
    """``[ldap]`` of joule.toml: log users in against a directory.

    LDAP groups become Django groups, hence roles; ``claims`` maps claim
    names to user attributes::

        [ldap]
        server = "ldap://127.0.0.1:389"
        bind_dn = "cn=reader,dc=example,dc=org"
        bind_password = "{LDAP_PASSWORD}"
        user_search = "ou=people,dc=example,dc=org"
        group_search = "ou=groups,dc=example,dc=org"
        claims = { WORKSPACE_ID = "departmentNumber" }
    """

    # server: the directory's ldap:// or ldaps:// URL.
    server: str
    # bind_dn / bind_password: the account searching for users ("" anonymous).
    bind_dn: str = ""
    bind_password: str = ""
    # user_search: where users are found, with user_filter ("%(user)s" is
    # the login name).
    user_search: str = ""
    user_filter: str = "(uid=%(user)s)"
    # group_search: where groupOfNames groups are; they become roles.
    group_search: str = ""
    # claims: claim name -> LDAP attribute, stored at each login.
    claims: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ServiceSpec:
    """One service, read from ``services/<folder>/service.toml``."""

    # id: unique; lower-case letters, digits and '-'; defaults to the folder.
    id: str
    # kind: db | service | gateway | frontend | wsgi (see config.services).
    kind: str
    # prefix: where the service is mounted; defaults to "/<id>".
    prefix: str
    # folder: the service's folder.
    folder: Path
    # module: the Python module of the folder ("services.orders").
    module: str
    # options: the kind's own settings (config.services reads them).
    options: Any = None

    def __hash__(self) -> int:
        """Hash the fields once: specs key per-request lookups (URLconfs)."""
        cached = self.__dict__.get("_hash")
        if cached is None:
            fields = (self.id, self.kind, self.prefix, self.folder, self.module)
            cached = hash((*fields, self.options))
            object.__setattr__(self, "_hash", cached)
        return cached

    @property
    def prefixes(self) -> tuple[str, ...]:
        """Return every prefix routed to it: its own, then its kind's extras.

        A gateway's upstreams are extras (``GatewayOptions.extra_prefixes``).
        """
        return (self.prefix, *getattr(self.options, "extra_prefixes", ()))

    @property
    def label(self) -> str:
        """Return the Django app label of this service."""
        return naming.app_label(self.id)

    @property
    def source(self) -> str:
        """Return the service.toml path relative to the project root."""
        return f"services/{self.folder.name}/service.toml"


@dataclass(frozen=True)
class PlatformConfig:
    """The whole platform: joule.toml plus every service.toml."""

    # root: the project folder holding joule.toml and services/.
    root: Path
    # entrypoint: the service that also answers "/" (unset: none does).
    entrypoint: str | None = None
    server: ServerConfig = field(default_factory=ServerConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    channels: ChannelsConfig = field(default_factory=ChannelsConfig)
    graphql: GraphQLConfig = field(default_factory=GraphQLConfig)
    # ldap: None unless [ldap] is given (then LDAP logins are on).
    ldap: LdapConfig | None = None
    services: tuple[ServiceSpec, ...] = ()

    def get_service(self, service_id: str) -> ServiceSpec:
        """Return the service ``service_id``; raise ServiceNotFound if none."""
        for spec in self.services:
            if spec.id == service_id:
                return spec
        ids = [spec.id for spec in self.services]
        raise ServiceNotFound(
            f"No service '{service_id}'. Services: {', '.join(ids) or 'none'}."
            + did_you_mean(service_id, ids)
        )
