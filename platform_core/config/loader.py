"""Read joule.toml and every services/*/service.toml into a PlatformConfig.

Everything is validated here, once, at start; a mistake raises ConfigError
naming the file, the key, the allowed values and the nearest valid name::

    config = load_config(Path("."))
    config.get_service("orders").prefix   # "/orders"
"""

from __future__ import annotations

import contextlib
import ipaddress
import tomllib
from pathlib import Path

from platform_core import naming
from platform_core.config.env import env, load_dotenv
from platform_core.config.reader import TableReader
from platform_core.config.services import (  # noqa: F401
    COMPOSED_PATHS,
    RESERVED_PREFIXES,
    OptionReaders,
    check_prefix,
    option_readers,
    read_timeout,
)
from platform_core.config.types import (
    DEFAULT_ALLOWED_HOSTS,
    ChannelsConfig,
    DatabaseConfig,
    GraphQLConfig,
    LdapConfig,
    LoggingConfig,
    PlatformConfig,
    ServerConfig,
    ServiceSpec,
)
from platform_core.exceptions import ConfigError, did_you_mean

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def read_toml(path: Path, name: str) -> dict:
    """Parse a TOML file; raise ConfigError naming ``name`` when it is invalid."""
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: invalid TOML: {exc}") from None


def service_folders(root: Path) -> list[Path]:
    """Return the folders under ``root/services`` that hold a service.toml."""
    base = root / "services"
    if not base.is_dir():
        return []
    return sorted(p.parent for p in base.glob("*/service.toml"))


def load_config(root: Path, readers: OptionReaders = option_readers) -> PlatformConfig:
    """Return the validated configuration of the project in ``root``.

    Each service's kind-specific keys are read by its kind's reader in
    ``readers``. Raise ConfigError for any mistake in joule.toml or a
    service.toml.
    """
    root = Path(root).resolve()
    load_dotenv(root)
    path = root / "joule.toml"
    reader = TableReader(
        read_toml(path, "joule.toml") if path.exists() else {}, "joule.toml"
    )
    entrypoint = reader.get("entrypoint", str, None)
    config = PlatformConfig(
        root=root,
        entrypoint=entrypoint,
        server=_server(reader.table("server")),
        logging=_logging(reader.table("logging")),
        database=_database(reader.table("database")),
        channels=_channels(reader.table("channels")),
        graphql=_graphql(reader.table("graphql")),
        ldap=_ldap(reader.table("ldap")) if "ldap" in reader.data else None,
        services=tuple(_service(folder, readers) for folder in service_folders(root)),
    )
    reader.finish()
    _check_services(config)
    if entrypoint is not None:
        ids = [spec.id for spec in config.services]
        if entrypoint not in ids:
            raise ConfigError(
                f"joule.toml: entrypoint: no service '{entrypoint}'. "
                f"Services: {', '.join(ids) or 'none'}." + did_you_mean(entrypoint, ids)
            )
    return config


def _server(table: TableReader) -> ServerConfig:
    config = ServerConfig(
        host=table.get("host", str, "127.0.0.1"),
        port=table.get("port", int, 8000),
        workers=table.get("workers", int, 1),
        allowed_hosts=table.get_list("allowed_hosts", str, DEFAULT_ALLOWED_HOSTS),
        https=table.get("https", bool, False),
        trusted_proxies=table.get_list("trusted_proxies", str, ()),
        header_timeout=float(table.get("header_timeout", (int, float), 10.0)),
    )
    table.finish()
    for index, proxy in enumerate(config.trusted_proxies):
        _check_proxy(proxy, f"{table.where('trusted_proxies')}[{index}]")
    if not 0 < config.port < 65536:
        raise ConfigError(f"{table.where('port')}: {config.port} is not a port")
    if config.workers < 1:
        raise ConfigError(f"{table.where('workers')}: must be at least 1")
    if config.header_timeout <= 0:
        where = table.where("header_timeout")
        raise ConfigError(f"{where}: must be more than 0 seconds")
    return config


def _check_proxy(proxy: str, where: str) -> None:
    """Raise ConfigError unless ``proxy`` is "*", an IP address or a network."""
    if proxy == "*":
        return
    try:
        ipaddress.ip_network(proxy)
    except ValueError as exc:
        hint = ""
        with contextlib.suppress(ValueError):
            hint = f" Did you mean '{ipaddress.ip_network(proxy, strict=False)}'?"
        raise ConfigError(
            f"{where}: {proxy!r} is not an IP address, a network like "
            f"'10.0.0.0/8', or '*' ({exc}).{hint}"
        ) from None


def _logging(table: TableReader) -> LoggingConfig:
    config = LoggingConfig(
        level=table.get("level", str, "INFO", choices=LOG_LEVELS),
        format=table.get("format", str, "json", choices=("json", "text")),
    )
    table.finish()
    return config


def _database(table: TableReader) -> DatabaseConfig:
    url = table.get("url", str, DatabaseConfig.url)
    timeouts = {
        key: read_timeout(table, key, getattr(DatabaseConfig, key))
        for key in ("connect_timeout", "statement_timeout")
    }
    table.finish()
    return DatabaseConfig(url=env("DATABASE_URL", default=url), **timeouts)


def _channels(table: TableReader) -> ChannelsConfig:
    redis = table.get("redis", str, None)
    prefix = table.get("prefix", str, ChannelsConfig.prefix)
    table.finish()
    return ChannelsConfig(
        redis=env("REDIS_URL", default=redis) or None,
        prefix=env("JOULE_CHANNELS_PREFIX", default=prefix),
    )


def _ldap(table: TableReader) -> LdapConfig:
    claims = table.get("claims", dict, {})
    config = LdapConfig(
        server=table.get("server", str),
        bind_dn=table.get("bind_dn", str, ""),
        bind_password=table.get("bind_password", str, ""),
        user_search=table.get("user_search", str),
        user_filter=table.get("user_filter", str, LdapConfig.user_filter),
        group_search=table.get("group_search", str, ""),
        claims=tuple((str(k), str(v)) for k, v in claims.items()),
    )
    table.finish()
    if not config.server.startswith(("ldap://", "ldaps://", "ldapi://")):
        raise ConfigError(
            f"{table.where('server')}: {config.server!r} must be an ldap:// URL"
        )
    if "%(user)s" not in config.user_filter:
        raise ConfigError(f"{table.where('user_filter')}: must contain %(user)s")
    return config


def _graphql(table: TableReader) -> GraphQLConfig:
    config = GraphQLConfig(
        max_depth=table.get("max_depth", int, GraphQLConfig.max_depth),
        max_aliases=table.get("max_aliases", int, GraphQLConfig.max_aliases),
        max_query_size=table.get("max_query_size", int, GraphQLConfig.max_query_size),
    )
    table.finish()
    for key in ("max_depth", "max_aliases", "max_query_size"):
        if getattr(config, key) < 1:
            raise ConfigError(f"{table.where(key)}: must be at least 1")
    return config


def _service(folder: Path, readers: OptionReaders) -> ServiceSpec:
    source = f"services/{folder.name}/service.toml"
    reader = TableReader(read_toml(folder / "service.toml", source), source)
    service_id = reader.get("id", str, folder.name)
    if not naming.SERVICE_ID_RE.match(service_id):
        raise ConfigError(
            f"{reader.where('id')}: {service_id!r} is not a valid id: use lower-case "
            "letters, digits and '-', starting with a letter"
            + ("" if "id" in reader.data else " (the id defaults to the folder name)")
        )
    kind = reader.get("kind", str, choices=readers.names())
    prefix = reader.get("prefix", str, naming.default_prefix(service_id))
    where = reader.where("prefix")
    if "prefix" not in reader.data:
        where += f" (defaults to '/<id>'; set prefix = \"...\" in {source})"
    check_prefix(prefix, where)
    options = readers.get(kind)(reader, service_id)
    reader.finish()
    return ServiceSpec(
        service_id, kind, prefix, folder, naming.service_module(folder.name), options
    )


def _check_services(config: PlatformConfig) -> None:
    seen_ids: dict[str, ServiceSpec] = {}
    seen_prefixes: dict[str, ServiceSpec] = {}
    for spec in config.services:
        if spec.id in seen_ids:
            raise ConfigError(
                f"{spec.source}: id: '{spec.id}' is already used by "
                f"{seen_ids[spec.id].source}"
            )
        seen_ids[spec.id] = spec
        for prefix in spec.prefixes:
            if prefix in seen_prefixes:
                raise ConfigError(
                    f"{spec.source}: prefix: '{prefix}' is already "
                    f"used by {seen_prefixes[prefix].source}"
                )
            seen_prefixes[prefix] = spec
