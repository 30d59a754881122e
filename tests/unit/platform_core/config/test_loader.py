"""load_config: defaults, and one clear ConfigError per user mistake."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from platform_core.config import types
from platform_core.config.loader import load_config
from platform_core.exceptions import ConfigError

SERVICE = 'kind = "service"\n'
HOST_FROM_ENV = '[server]\nhost = "{JOULE_TEST_HOST}"\n'


@pytest.fixture(autouse=True)
def no_database_url(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)


def write(path: Path, text: str) -> Path:
    """Write ``text`` (dedented) to ``path``, creating its folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def project(root: Path, joule: str = "", services: dict | None = None) -> Path:
    """Write joule.toml and services/<folder>/service.toml under ``root``."""
    write(root / "joule.toml", joule)
    for folder, text in (services or {}).items():
        write(root / "services" / folder / "service.toml", text)
    return root


def one_service(root: Path, text: str, folder: str = "orders") -> Path:
    """Write a project holding one service, in ``services/<folder>``."""
    return project(root, services={folder: text})


def message(*parts: str) -> str:
    """Return a pattern matching ``parts`` in this order."""
    return "(?s)" + ".*".join(re.escape(part) for part in parts)


def assert_error(root: Path, *parts: str) -> None:
    """Assert that loading ``root`` raises ConfigError saying ``parts``."""
    with pytest.raises(ConfigError, match=message(*parts)):
        load_config(root)


def unset_later(monkeypatch, name: str) -> None:
    """Unset ``name`` now and after the test, even if a .env sets it."""
    monkeypatch.setenv(name, "")
    monkeypatch.delenv(name)


# The happy path


def test_empty_project_gets_every_default(tmp_path):
    config = load_config(project(tmp_path))
    assert config.root == tmp_path.resolve()
    assert config.entrypoint is None
    assert config.server == types.ServerConfig()
    assert config.server.port == 8000
    assert config.logging == types.LoggingConfig()
    assert config.database == types.DatabaseConfig()
    assert config.channels == types.ChannelsConfig()
    assert config.services == ()


def test_missing_joule_toml_means_defaults(tmp_path):
    assert load_config(tmp_path).server == types.ServerConfig()


def test_service_id_and_prefix_default_to_the_folder(tmp_path):
    (spec,) = load_config(one_service(tmp_path, SERVICE)).services
    assert (spec.id, spec.kind, spec.prefix) == ("orders", "service", "/orders")
    assert spec.module == "services.orders"
    assert spec.folder == tmp_path.resolve() / "services" / "orders"
    assert spec.source == "services/orders/service.toml"


def test_explicit_id_and_prefix_are_used(tmp_path):
    root = one_service(tmp_path, f'id = "shop"\nprefix = "/api/shop"\n{SERVICE}')
    assert load_config(root).get_service("shop").prefix == "/api/shop"


def test_services_are_sorted_by_folder(tmp_path):
    folders = {"charlie": SERVICE, "alpha": SERVICE, "bravo": SERVICE}
    config = load_config(project(tmp_path, services=folders))
    assert [spec.id for spec in config.services] == ["alpha", "bravo", "charlie"]


def test_folder_without_service_toml_is_ignored(tmp_path):
    (tmp_path / "services" / "notes").mkdir(parents=True)
    assert load_config(project(tmp_path)).services == ()


def test_joule_toml_values_are_read(tmp_path):
    joule = """\
        entrypoint = "hello"
        [server]
        host = "0.0.0.0"
        port = 9000
        workers = 4
        allowed_hosts = ["example.com"]
        [logging]
        level = "DEBUG"
        format = "text"
        """
    config = load_config(project(tmp_path, joule, {"hello": SERVICE}))
    assert config.entrypoint == "hello"
    assert config.server == types.ServerConfig("0.0.0.0", 9000, 4, ("example.com",))
    assert config.logging == types.LoggingConfig("DEBUG", "text")


def test_prefix_merely_starting_like_a_reserved_one_is_allowed(tmp_path):
    root = one_service(tmp_path, f'prefix = "/administration"\n{SERVICE}')
    assert load_config(root).services[0].prefix == "/administration"


# joule.toml mistakes


def test_invalid_toml_names_the_file(tmp_path):
    assert_error(project(tmp_path, "entrypoint = \n"), "joule.toml: invalid TOML")


def test_invalid_service_toml_names_the_file(tmp_path):
    root = one_service(tmp_path, "kind = [\n")
    assert_error(root, "services/orders/service.toml: invalid TOML")


def test_unknown_top_level_key_suggests_the_nearest(tmp_path):
    assert_error(
        project(tmp_path, 'entrypiont = "hello"\n'),
        "joule.toml: entrypiont: unknown key.",
        "Allowed keys here: entrypoint, server, logging, database, channels, graphql.",
        "Did you mean 'entrypoint'?",
    )


def test_unknown_server_key_suggests_the_nearest(tmp_path):
    assert_error(
        project(tmp_path, "[server]\nprot = 80\n"),
        "joule.toml: server.prot: unknown key.",
        "Allowed keys here: host, port, workers, allowed_hosts, https, "
        "trusted_proxies, header_timeout.",
        "Did you mean 'port'?",
    )


@pytest.mark.parametrize(
    ("server", "error"),
    [
        pytest.param('port = "80"', "port: expected an integer, got '80'", id="str"),
        pytest.param(
            "workers = true", "workers: expected an integer, got True", id="bool"
        ),
        pytest.param("port = 70000", "port: 70000 is not a port", id="range"),
        pytest.param("workers = 0", "workers: must be at least 1", id="workers"),
    ],
)
def test_bad_server_value_is_refused(tmp_path, server, error):
    root = project(tmp_path, f"[server]\n{server}\n")
    assert_error(root, f"joule.toml: server.{error}")


def test_https_and_trusted_proxies_are_read(tmp_path):
    joule = """\
        [server]
        https = true
        trusted_proxies = ["10.0.0.0/8", "192.168.1.7", "fd00::/8", "*"]
        """
    server = load_config(project(tmp_path, joule)).server
    assert server.https is True
    assert server.trusted_proxies == ("10.0.0.0/8", "192.168.1.7", "fd00::/8", "*")
    assert server.forwarded_allow_ips == "10.0.0.0/8,192.168.1.7,fd00::/8,*"


def test_https_is_off_and_only_loopback_is_trusted_by_default(tmp_path):
    server = load_config(project(tmp_path)).server
    assert (server.https, server.trusted_proxies) == (False, ())
    assert server.forwarded_allow_ips == "127.0.0.1,::1"


@pytest.mark.parametrize(
    ("server", "error"),
    [
        pytest.param(
            'https = "yes"', "https: expected true or false, got 'yes'", id="https"
        ),
        pytest.param("https = 1", "https: expected true or false, got 1", id="int"),
        pytest.param(
            'trusted_proxies = "10.0.0.0/8"',
            "trusted_proxies: expected a list, got '10.0.0.0/8'",
            id="not-a-list",
        ),
        pytest.param(
            "trusted_proxies = [10]",
            "trusted_proxies[0]: expected a string, got 10",
            id="not-a-string",
        ),
        pytest.param(
            'trusted_proxies = ["10.0.0.0/8", "proxy.example.com"]',
            "trusted_proxies[1]: 'proxy.example.com' is not an IP address",
            id="host-name",
        ),
        pytest.param(
            'trusted_proxies = ["10.1.2.3/8"]',
            "trusted_proxies[0]: '10.1.2.3/8' is not an IP address, a network "
            "like '10.0.0.0/8', or '*' (10.1.2.3/8 has host bits set). "
            "Did you mean '10.0.0.0/8'?",
            id="host-bits",
        ),
    ],
)
def test_bad_https_or_trusted_proxies_are_refused(tmp_path, server, error):
    root = project(tmp_path, f"[server]\n{server}\n")
    assert_error(root, f"joule.toml: server.{error}")


def test_log_level_must_be_allowed(tmp_path):
    assert_error(
        project(tmp_path, '[logging]\nlevel = "WARN"\n'),
        "joule.toml: logging.level: 'WARN' is not one of",
        "DEBUG, INFO, WARNING, ERROR, CRITICAL.",
        "Did you mean 'WARNING'?",
    )


def test_entrypoint_must_name_a_service(tmp_path):
    assert_error(
        project(tmp_path, 'entrypoint = "helo"\n', {"hello": SERVICE}),
        "joule.toml: entrypoint: no service 'helo'. Services: hello.",
        "Did you mean 'hello'?",
    )


def test_entrypoint_without_services_says_none(tmp_path):
    root = project(tmp_path, 'entrypoint = "hello"\n')
    assert_error(root, "entrypoint: no service 'hello'. Services: none.")


# service.toml mistakes


def test_kind_is_required(tmp_path):
    root = one_service(tmp_path, 'prefix = "/o"\n')
    assert_error(root, "services/orders/service.toml: kind: required key is missing")


def test_unknown_kind_lists_kinds_and_suggests_the_nearest(tmp_path):
    assert_error(
        one_service(tmp_path, 'kind = "servce"\n'),
        "services/orders/service.toml: kind: 'servce' is not one of",
        "db, service, gateway, frontend, wsgi.",
        "Did you mean 'service'?",
    )


def test_unknown_service_key_lists_allowed_keys(tmp_path):
    assert_error(
        one_service(tmp_path, f'prefx = "/o"\n{SERVICE}'),
        "services/orders/service.toml: prefx: unknown key.",
        "Allowed keys here: id, kind, prefix.",
        "Did you mean 'prefix'?",
    )


def test_upper_case_id_is_refused(tmp_path):
    root = one_service(tmp_path, f'id = "Orders"\n{SERVICE}')
    pattern = message(
        "services/orders/service.toml: id: 'Orders' is not a valid id",
        "lower-case letters, digits and '-'",
    )
    with pytest.raises(ConfigError, match=pattern) as info:
        load_config(root)
    assert "defaults to the folder name" not in str(info.value)


def test_folder_name_invalid_as_id_says_id_defaults_to_folder(tmp_path):
    assert_error(
        one_service(tmp_path, SERVICE, folder="My_Orders"),
        "services/My_Orders/service.toml: id: 'My_Orders' is not a valid id",
        "(the id defaults to the folder name)",
    )


@pytest.mark.parametrize(
    "prefix", ["orders", "/orders/", "/", "/a//b", "/.", "/..", "/orders/../admin"]
)
def test_prefix_must_be_a_path(tmp_path, prefix):
    assert_error(
        one_service(tmp_path, f'prefix = "{prefix}"\n{SERVICE}'),
        f"services/orders/service.toml: prefix: '{prefix}' must be a path like",
        "(starting with '/', no trailing '/')",
    )


@pytest.mark.parametrize("prefix", ["/admin", "/_joule/x", "/static", "/metrics/a"])
def test_reserved_prefix_is_refused(tmp_path, prefix):
    assert_error(
        one_service(tmp_path, f'prefix = "{prefix}"\n{SERVICE}'),
        f"services/orders/service.toml: prefix: '{prefix}' is reserved",
        "(/_joule, /admin, /static, /metrics)",
    )


def test_duplicate_id_names_both_files(tmp_path):
    services = {
        "a": f'id = "shop"\nprefix = "/a"\n{SERVICE}',
        "b": f'id = "shop"\nprefix = "/b"\n{SERVICE}',
    }
    assert_error(
        project(tmp_path, services=services),
        "services/b/service.toml: id: 'shop' is already used by "
        "services/a/service.toml",
    )


def test_duplicate_prefix_names_both_files(tmp_path):
    toml = f'prefix = "/shop"\n{SERVICE}'
    assert_error(
        project(tmp_path, services={"a": toml, "b": toml}),
        "services/b/service.toml: prefix: '/shop' is already used by "
        "services/a/service.toml",
    )


@pytest.mark.parametrize("prefix", ["/openapi.json", "/docs", "/graphql", "/graphiql"])
def test_composed_api_paths_are_refused_as_prefixes(tmp_path, prefix):
    assert_error(
        one_service(tmp_path, f'prefix = "{prefix}"\n{SERVICE}'),
        f"services/orders/service.toml: prefix: '{prefix}' is where the platform "
        "serves the composed API",
    )


def test_upstream_prefix_taken_by_a_service_names_both_files(tmp_path):
    services = {
        "a": 'kind = "gateway"\n[[upstreams]]\nprefix = "/shop"\nurl = "http://x"',
        "b": f'prefix = "/shop"\n{SERVICE}',
    }
    assert_error(
        project(tmp_path, services=services),
        "services/b/service.toml: prefix: '/shop' is already used by "
        "services/a/service.toml",
    )


def test_upstreams_are_read_with_their_defaults(tmp_path):
    toml = """kind = "gateway"
[[upstreams]]
prefix = "/ext"
url = "http://127.0.0.1:9999/v1/"
openapi = "/openapi.json"
[[upstreams]]
prefix = "/other"
url = "https://api.example"
timeout = 2.5
"""
    (spec,) = load_config(one_service(tmp_path, toml, folder="gateway")).services
    ext, other = spec.options.upstreams
    assert (ext.prefix, ext.timeout, ext.name) == ("/ext", 30.0, "ext")
    assert ext.openapi_url == "http://127.0.0.1:9999/v1/openapi.json"
    assert (other.openapi, other.openapi_url, other.timeout) == (None, None, 2.5)


# Kind options


@pytest.mark.parametrize(
    ("toml", "error"),
    [
        pytest.param('kind = "wsgi"', "app: required key is missing", id="wsgi-app"),
        pytest.param(
            'kind = "wsgi"\napp = "services.x.app"',
            "app: 'services.x.app' must look like 'package.module:callable'",
            id="wsgi-colon",
        ),
        pytest.param(
            'kind = "db"\n[db.limit]\ndefault = 200\nmax = 100',
            "db.limit.default: must be between 1 and limit.max (100)",
            id="db-limit",
        ),
        pytest.param(
            'kind = "gateway"\n[[upstreams]]\nprefix = "/ext"\nurl = "ftp://x"',
            "upstreams[0].url: 'ftp://x' must start with http:// or https://",
            id="gateway-url",
        ),
        pytest.param(
            'kind = "gateway"\n[[upstreams]]\nprefix = "/ext"\nurl = "http://x"\n'
            'openapi = "openapi.json"',
            "upstreams[0].openapi: 'openapi.json' must be a path under url",
            id="gateway-openapi",
        ),
        pytest.param(
            'kind = "gateway"\n[[upstreams]]\nprefix = "/ext"\nurl = "http://x"\n'
            "timeout = 0",
            "upstreams[0].timeout: must be above 0 seconds",
            id="gateway-timeout",
        ),
        pytest.param(
            'kind = "gateway"\n[[upstreams]]\nprefix = "/admin/x"\nurl = "http://x"',
            "upstreams[0].prefix: '/admin/x' is reserved",
            id="gateway-reserved-prefix",
        ),
        pytest.param(
            'kind = "gateway"\n[[upstreams]]\nprefix = "ext/"\nurl = "http://x"',
            "upstreams[0].prefix: 'ext/' must be a path like",
            id="gateway-prefix",
        ),
        pytest.param(
            'kind = "frontend"\n[frontend]\nhealth = "healthz"',
            "frontend.health: must start with '/'",
            id="frontend-health",
        ),
        pytest.param(
            'kind = "frontend"\n[frontend]\ntimeout = 0',
            "frontend.timeout: must be above 0 seconds",
            id="frontend-timeout",
        ),
        pytest.param(
            'kind = "frontend"\n[frontend]\ntimeout = "fast"',
            "frontend.timeout: expected",
            id="frontend-timeout-type",
        ),
    ],
)
def test_bad_kind_option_is_refused(tmp_path, toml, error):
    root = one_service(tmp_path, toml + "\n", folder="x")
    assert_error(root, f"services/x/service.toml: {error}")


# Environment


def test_placeholder_is_filled_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("JOULE_TEST_HOST", "10.0.0.1")
    assert load_config(project(tmp_path, HOST_FROM_ENV)).server.host == "10.0.0.1"


def test_unset_placeholder_names_the_variable(tmp_path, monkeypatch):
    unset_later(monkeypatch, "JOULE_TEST_HOST")
    assert_error(
        project(tmp_path, HOST_FROM_ENV),
        "joule.toml: server.host: environment variable JOULE_TEST_HOST is not set",
    )


def test_dotenv_fills_placeholders(tmp_path, monkeypatch):
    unset_later(monkeypatch, "JOULE_TEST_HOST")
    write(tmp_path / ".env", "JOULE_TEST_HOST=10.0.0.2\n")
    assert load_config(project(tmp_path, HOST_FROM_ENV)).server.host == "10.0.0.2"


def test_environment_wins_over_dotenv(tmp_path, monkeypatch):
    monkeypatch.setenv("JOULE_TEST_HOST", "from-env")
    write(tmp_path / ".env", "JOULE_TEST_HOST=from-file\n")
    assert load_config(project(tmp_path, HOST_FROM_ENV)).server.host == "from-env"


def test_database_url_comes_from_joule_toml(tmp_path):
    root = project(tmp_path, '[database]\nurl = "sqlite:///x.db"\n')
    assert load_config(root).database.url == "sqlite:///x.db"


def test_database_url_env_overrides_joule_toml(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://db/app")
    root = project(tmp_path, '[database]\nurl = "sqlite:///x.db"\n')
    assert load_config(root).database.url == "postgres://db/app"


def test_default_prefix_refusal_says_where_the_prefix_came_from(tmp_path):
    folder = tmp_path / "services" / "admin"
    folder.mkdir(parents=True)
    (folder / "service.toml").write_text(SERVICE)
    with pytest.raises(ConfigError, match=r"defaults to '/<id>'.*is reserved"):
        load_config(tmp_path)


def test_graphql_limits_are_read_and_checked(tmp_path):
    (tmp_path / "joule.toml").write_text("[graphql]\nmax_depth = 4\n")
    assert load_config(tmp_path).graphql.max_depth == 4
    (tmp_path / "joule.toml").write_text("[graphql]\nmax_aliases = 0\n")
    with pytest.raises(ConfigError, match=r"joule.toml: graphql.max_aliases: must be"):
        load_config(tmp_path)


def test_ldap_and_channels_are_read_with_environment_overrides(tmp_path, monkeypatch):
    joule = (
        '[channels]\nredis = "redis://127.0.0.1:6379/1"\nprefix = "shop"\n'
        '[ldap]\nserver = "ldap://127.0.0.1:389"\nuser_search = "ou=people,dc=x"\n'
        'group_search = "ou=groups,dc=x"\n'
        'claims = { WORKSPACE_ID = "departmentNumber" }\n'
    )
    config = load_config(project(tmp_path, joule))
    assert config.ldap == types.LdapConfig(
        server="ldap://127.0.0.1:389",
        user_search="ou=people,dc=x",
        group_search="ou=groups,dc=x",
        claims=(("WORKSPACE_ID", "departmentNumber"),),
    )
    assert config.channels == types.ChannelsConfig("redis://127.0.0.1:6379/1", "shop")
    monkeypatch.setenv("REDIS_URL", "redis://10.0.0.1:6379/0")
    monkeypatch.setenv("JOULE_CHANNELS_PREFIX", "other")
    config = load_config(project(tmp_path, joule))
    assert config.channels == types.ChannelsConfig("redis://10.0.0.1:6379/0", "other")
    assert load_config(project(tmp_path)).ldap is None


@pytest.mark.parametrize(
    ("ldap", "key", "message"),
    [
        ('server = "http://x"\nuser_search = "dc=x"', "server", "an ldap:// URL"),
        (
            'server = "ldap://x"\nuser_search = "dc=x"\nuser_filter = "(uid=x)"',
            "user_filter",
            "must contain %(user)s",
        ),
        ('server = "ldap://x"', "user_search", "required key is missing"),
    ],
)
def test_ldap_mistakes_name_the_key(tmp_path, ldap, key, message):
    assert_error(
        project(tmp_path, f"[ldap]\n{ldap}\n"), f"joule.toml: ldap.{key}", message
    )
