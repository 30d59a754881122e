"""System checks of db services against their tables, and ``manage.py check``."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from django.core.checks import Error, Warning
from django.db import connections

from platform_core import checks
from platform_core.config.reader import TableReader
from platform_core.config.services import read_db_options
from platform_core.db.catalog import forget_schema
from platform_core.db.connections import alias_for
from platform_core.exceptions import ConfigError
from platform_core.registry import ServiceRegistry
from tests.databases import connection_alias, fresh_database
from tests.integration.conftest import make_db_service

MAIN = Path(__file__).resolve().parents[2]
RULES = """
[authorization]
adminSecret = "x"
[[authorization.rules]]
role = "user"
entity = "psot"
find = true
[[authorization.rules]]
role = "user"
entity = "post"
find = ["ownerid = $USER_ID"]
fields = ["id", "titel"]
[[webhooks]]
entity = "coment"
url = "http://127.0.0.1:9/hooks"
"""
POSTS = "CREATE TABLE posts (id INTEGER PRIMARY KEY, owner_id INTEGER, title TEXT)"
SOURCE = "services/checked/service.toml"
FIELDS_HINT = "Name one of the entity's fields: id, ownerId, title."


@contextlib.contextmanager
def db_service(tmp_path, url, toml, statements=()):
    """Yield a registry holding db service ``checked`` on ``url``."""
    reader = TableReader(tomllib.loads(toml), SOURCE)
    options = read_db_options(reader, "checked")
    spec = make_db_service(tmp_path / "checked", url, "checked")
    spec = dataclasses.replace(
        spec, options=dataclasses.replace(options, connection=url)
    )
    registry = ServiceRegistry()
    registry.register(spec)
    with connection_alias(alias_for(spec), url, tmp_path):
        if statements:
            with connections[alias_for(spec)].cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
        try:
            yield registry
        finally:
            forget_schema(spec.id)


@pytest.fixture
def sqlite_url(tmp_path, django_db_blocker):
    with django_db_blocker.unblock(), fresh_database("sqlite", tmp_path) as url:
        yield url


def test_rules_and_webhooks_naming_what_the_tables_lack_are_listed(
    tmp_path, sqlite_url
):
    with db_service(tmp_path, sqlite_url, RULES, [POSTS]) as registry:
        messages = checks.check_db_services(registry=registry)
    assert messages == [
        Error(
            f"{SOURCE}: authorization.rules[0]: no entity 'psot' in service "
            "'checked'. Did you mean 'post'?",
            hint='Name one of the service\'s entities (post), or "*" for all.',
            obj="checked",
            id="joule.E001",
        ),
        Error(
            f"{SOURCE}: authorization.rules[1]: no field 'titel' in entity "
            "'post'. Did you mean 'title'?",
            hint=FIELDS_HINT,
            obj="checked",
            id="joule.E002",
        ),
        Error(
            f"{SOURCE}: authorization.rules[1]: no field 'ownerid' in entity "
            "'post'. Did you mean 'ownerId'?",
            hint=FIELDS_HINT,
            obj="checked",
            id="joule.E002",
        ),
        Error(
            f"{SOURCE}: webhooks[0].entity: no entity 'coment' in service 'checked'.",
            hint='Name one of the service\'s entities (post), or "*" for all.',
            obj="checked",
            id="joule.E003",
        ),
    ]


def test_the_start_still_stops_at_the_first_mistake(tmp_path, sqlite_url):
    from platform_core.gateway.routing.asgi import warm_up

    with db_service(tmp_path, sqlite_url, RULES, [POSTS]) as registry:
        first = checks.check_db_services(registry=registry)[0]
        with pytest.raises(ConfigError) as error:
            warm_up(registry)
    assert str(error.value) == first.msg


def test_names_the_tables_have_pass(tmp_path, sqlite_url):
    toml = (
        '[authorization]\nadminSecret = "x"\n[[authorization.rules]]\n'
        'role = "user"\nentity = "*"\nfind = ["ownerId = $USER_ID"]\n'
        '[[webhooks]]\nentity = "post"\nurl = "http://127.0.0.1:9/hooks"\n'
    )
    with db_service(tmp_path, sqlite_url, toml, [POSTS]) as registry:
        assert checks.check_db_services(registry=registry) == []


def test_a_database_that_does_not_answer_is_a_warning(tmp_path, django_db_blocker):
    url = "postgres://nobody@127.0.0.1:1/nothing"  # nothing listens on port 1
    with django_db_blocker.unblock(), db_service(tmp_path, url, RULES) as registry:
        [message] = checks.check_db_services(registry=registry)
    assert isinstance(message, Warning)
    assert (message.id, message.obj) == ("joule.W001", "checked")
    assert message.msg.startswith(
        f"{SOURCE}: db.connection: the database of service 'checked' cannot be "
        "read (OperationalError: "
    )
    assert message.msg.endswith(
        "; its rules and webhooks were not checked against its tables."
    )
    assert message.hint == (
        "Start the database server or correct the URL, then run "
        "`manage.py check` again."
    )


def test_a_service_with_nothing_to_check_is_not_connected_to(tmp_path):
    # Database access stays blocked: a connection attempt would be a W001.
    url = "postgres://nobody@127.0.0.1:1/nothing"
    with db_service(tmp_path, url, "") as registry:
        assert checks.check_db_services(registry=registry) == []


def test_pending_migrations_are_a_warning(tmp_path, sqlite_url):
    migrations = tmp_path / "checked" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "001.do.sql").write_text(POSTS)
    with db_service(tmp_path, sqlite_url, RULES) as registry:
        messages = checks.check_db_services(registry=registry)
    assert messages == [
        Warning(
            "services/checked/migrations: 1 migration(s) not applied "
            "(001.do.sql); the rules and webhooks of service 'checked' were not "
            "checked against its tables.",
            hint="Run `manage.py dbmigrate` (a server applies them at start when "
            "autoApply is on), then `manage.py check` again.",
            obj="checked",
            id="joule.W002",
        )
    ]


def test_a_badly_named_migration_is_an_error(tmp_path, sqlite_url):
    migrations = tmp_path / "checked" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "1-posts.sql").write_text(POSTS)
    with db_service(tmp_path, sqlite_url, "") as registry:
        messages = checks.check_db_services(registry=registry)
    assert messages == [
        Error(
            "services/checked/migrations/1-posts.sql: expected a name like "
            "001.do.sql or 001.undo.sql",
            hint="Name migration files like 001.do.sql and 001.undo.sql "
            "(or 001.do.<name>.sql), one of each per version.",
            obj="checked",
            id="joule.E006",
        )
    ]


def test_manage_py_check_lists_every_mistake_at_once(tmp_path):
    root = tmp_path / "project"
    (root / "services" / "shop").mkdir(parents=True)
    (root / "services" / "web").mkdir()
    (root / "proxied_frontends" / "web").mkdir(parents=True)
    (root / "joule.toml").write_text("")
    with sqlite3.connect(root / "legacy.sqlite3") as legacy:
        legacy.execute(POSTS)
    (root / "services" / "shop" / "service.toml").write_text(
        'kind = "db"\n[db]\nconnection = "sqlite:///legacy.sqlite3"\n' + RULES
    )
    (root / "services" / "web" / "service.toml").write_text(
        'kind = "frontend"\n[frontend]\npath = "proxied_frontends/web"\n'
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "JOULE_ROOT": str(root),
        "DJANGO_SETTINGS_MODULE": "platform_core.settings",
        "PYTHONPATH": str(MAIN),
    }
    result = subprocess.run(
        [sys.executable, str(MAIN / "manage.py"), "check"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    shop = "shop: (joule.{}) services/shop/service.toml: "
    for line in (
        shop.format("E001") + "authorization.rules[0]: no entity 'psot' in "
        "service 'shop'. Did you mean 'post'?",
        shop.format("E002") + "authorization.rules[1]: no field 'titel' in "
        "entity 'post'. Did you mean 'title'?",
        shop.format("E002") + "authorization.rules[1]: no field 'ownerid' in "
        "entity 'post'. Did you mean 'ownerId'?",
        shop.format("E003") + "webhooks[0].entity: no entity 'coment' in "
        "service 'shop'.",
        "web: (joule.E004) services/web/service.toml: frontend.path: "
        "'proxied_frontends/web' has no package.json, so npm can neither "
        "install, build nor start it.",
        "System check identified 5 issues (0 silenced).",
    ):
        assert line in result.stderr.splitlines(), result.stderr
