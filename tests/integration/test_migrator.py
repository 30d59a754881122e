"""SQL migrations applied, recorded and undone on SQLite, PostgreSQL, MariaDB."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from platform_core.db.migrator import MigrationError, Migrator, read_migrations
from platform_core.exceptions import ConfigError


def write_migrations(spec, files):
    folder = spec.folder / "migrations"
    folder.mkdir(exist_ok=True)
    for name, sql in files.items():
        (folder / name).write_text(sql)


ITEMS = {
    "001.do.sql": "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50));",
    "001.undo.sql": "DROP TABLE items;",
    "002.do.tags.sql": (
        "CREATE TABLE tags (id INTEGER PRIMARY KEY, label VARCHAR(20));\n"
        "-- a comment between statements\n"
        "INSERT INTO tags (id, label) VALUES (1, '100%');"
    ),
    "002.undo.tags.sql": "DROP TABLE tags;",
}


def tables(spec):
    with connections[f"joule_{spec.label}"].cursor() as cursor:
        return set(connections[f"joule_{spec.label}"].introspection.table_names(cursor))


def test_migrations_apply_in_order_and_are_recorded(db_service):
    write_migrations(db_service, ITEMS)
    applied = Migrator(db_service).apply()
    assert [m.do.name for m in applied] == ["001.do.sql", "002.do.tags.sql"]
    migrator = Migrator(db_service)
    assert migrator.applied() == [1, 2]
    assert migrator.owned_tables() == {"items", "tags"}
    assert {"items", "tags"} <= tables(db_service)
    assert migrator.apply() == []


def test_apply_stops_at_the_target_version(db_service):
    write_migrations(db_service, ITEMS)
    assert [m.version for m in Migrator(db_service).apply(to=1)] == [1]
    assert "tags" not in tables(db_service)
    assert [m.version for m in Migrator(db_service).apply()] == [2]


def test_rollback_undoes_the_last_migration_then_to_a_version(db_service):
    write_migrations(db_service, ITEMS)
    migrator = Migrator(db_service)
    migrator.apply()
    assert [m.version for m in migrator.rollback()] == [2]
    assert migrator.applied() == [1]
    assert "tags" not in tables(db_service)
    assert migrator.owned_tables() == {"items"}
    migrator.apply()
    assert [m.version for m in migrator.rollback(to=0)] == [2, 1]
    assert migrator.applied() == [] and migrator.owned_tables() == set()
    assert not {"items", "tags"} & tables(db_service)


def test_rollback_without_an_undo_file_is_refused(db_service):
    write_migrations(db_service, {"001.do.sql": ITEMS["001.do.sql"]})
    migrator = Migrator(db_service)
    migrator.apply()
    with pytest.raises(MigrationError, match="version 1 has no 001.undo.sql"):
        migrator.rollback()
    assert migrator.applied() == [1]


def test_failing_migration_names_the_file_and_the_database_error(db_service, engine):
    write_migrations(
        db_service,
        {
            "001.do.sql": ITEMS["001.do.sql"],
            "002.do.sql": "CREATE TABLE half (id INTEGER PRIMARY KEY);\n"
            "INSERT INTO nowhere VALUES (1);",
        },
    )
    migrator = Migrator(db_service)
    with pytest.raises(
        MigrationError, match=r"migrations/002\.do\.sql failed: .*nowhere"
    ):
        migrator.apply()
    assert migrator.applied() == [1]
    if engine != "mariadb":  # MariaDB commits DDL at once
        assert "half" not in tables(db_service)


def test_an_engines_own_file_replaces_the_common_one_there(db_service, engine):
    own = {"sqlite": "sqlite", "postgresql": "postgresql", "mariadb": "mariadb"}
    write_migrations(db_service, ITEMS)
    folder = db_service.folder / "migrations" / own[engine]
    folder.mkdir()
    (folder / "001.do.items.sql").write_text(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, engine_name VARCHAR(20));"
    )
    other = (
        db_service.folder
        / "migrations"
        / ("mariadb" if engine != "mariadb" else "sqlite")
    )
    other.mkdir()
    (other / "002.do.sql").write_text("CREATE TABLE never (id INTEGER);")
    applied = Migrator(db_service).apply()
    assert [m.do.name for m in applied] == ["001.do.items.sql", "002.do.tags.sql"]
    connection = connections[f"joule_{db_service.label}"]
    with connection.cursor() as cursor:
        described = connection.introspection.get_table_description(cursor, "items")
    assert [column.name for column in described] == ["id", "engine_name"]
    assert "never" not in tables(db_service)
    assert [m.version for m in Migrator(db_service).rollback()] == [2]  # common undo


def test_create_writes_the_next_pair(db_service):
    write_migrations(db_service, ITEMS)
    do, undo = Migrator(db_service).create("add_prices")
    assert (do.name, undo.name) == ("003.do.add_prices.sql", "003.undo.add_prices.sql")
    assert [m.version for m in Migrator(db_service).migrations] == [1, 2, 3]


def test_dbmigrate_command_applies_and_rolls_back(db_service, capsys):
    write_migrations(db_service, ITEMS)
    call_command("dbmigrate", "shop", "--to", "1")
    assert "applied 001.do.sql" in capsys.readouterr().out
    call_command("dbmigrate", "shop")
    assert "now at version 2" in capsys.readouterr().out
    call_command("dbmigrate", "shop", "--rollback")
    assert "rolled back 002.undo.tags.sql" in capsys.readouterr().out


def test_dbmigrate_refuses_a_service_of_another_kind(django_db_blocker):
    with pytest.raises(CommandError, match="'hello' is a service service"):
        call_command("dbmigrate", "hello")
    with pytest.raises(CommandError, match="Did you mean 'hello'"):
        call_command("dbmigrate", "helo")


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["1.sql"], "1.sql: expected a name like 001.do.sql"),
        (["001.do.sql", "1.do.x.sql"], "version 1 already has 001.do.sql"),
        (["002.undo.sql"], "002.undo.sql: no 002.do.sql for it"),
    ],
)
def test_badly_named_migration_files_are_refused(tmp_path, names, message):
    for name in names:
        (tmp_path / name).write_text("SELECT 1;")
    with pytest.raises(ConfigError, match=message):
        read_migrations(tmp_path, "services/shop/migrations")


def test_migrations_applied_by_another_process_are_noticed(db_service):
    from platform_core.db.catalog import MigrationWatch, get_schema
    from platform_core.testing import platform_client

    write_migrations(
        db_service, {"001.do.sql": "CREATE TABLE apples (id INTEGER PRIMARY KEY);"}
    )
    Migrator(db_service).apply()
    watch = MigrationWatch()
    assert watch.check() == []  # first look
    assert set(get_schema(db_service).entities) == {"apple"}
    # Another process (manage.py dbmigrate elsewhere) applies 002:
    # its table and its rows in the versions tables, and nothing here knows.
    connection = connections[f"joule_{db_service.label}"]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE pears (id INTEGER PRIMARY KEY)")
        cursor.execute(
            "INSERT INTO joule_versions (service, version, name, applied_at) "
            "VALUES (%s, 2, 'pears', '2026-01-01T00:00:00')",
            [db_service.id],
        )
        cursor.execute(
            "INSERT INTO joule_tables (service, name) VALUES (%s, 'pears')",
            [db_service.id],
        )
    with platform_client() as client:
        assert client.get("/shop/pears").status_code == 404  # not known yet
        assert watch.check() == [db_service.id]
        assert client.get("/shop/pears").status_code == 200
    assert watch.check() == []
