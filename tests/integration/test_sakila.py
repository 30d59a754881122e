"""Sakila, a schema nobody here wrote, served as an existing database.

The schema of each engine (``/work/shared/datasets/sakila``: triggers,
views, composite keys, enums, sets, domains, arrays, bytea and BLOBs,
inherited tables without keys on PostgreSQL) is loaded into a fresh
database, served by a db service with ``connection`` and no migrations,
and seeded with a few rows through the API. Every table and view is then
listed, filtered and read by key; relations are followed both ways; a few
tables are written; GraphQL, the OpenAPI document and the Django admin
pages are checked.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from urllib.parse import quote as url_quote

import pytest
from django.db import connections
from drf_spectacular.validation import validate_schema

from platform_core.db.catalog import get_schema
from platform_core.db.connections import alias_for
from platform_core.registry import services
from platform_core.testing import platform_client, register_temporarily
from tests.databases import ENGINES, connection_alias, fresh_database
from tests.integration.conftest import make_db_service
from tests.integration.test_real_schemas import admin_of, admin_pages

SAKILA = Path("/work/shared/datasets/sakila")
FILES = {
    "sqlite": "sqlite-sakila-schema.sql",
    "postgresql": "postgres-sakila-schema.sql",
    "mariadb": "mysql-sakila-schema.sql",
}
STAMP = "2006-02-15T04:34:33Z"
# Rows inserted through the API, in foreign-key order; store and staff
# point at each other, so they are written with the keys checks off.
SEEDS = [
    ("countries", [{"country": "Utopia"}, {"country": "Erewhon"}]),
    ("cities", [{"city": "Alpha", "countryId": 1}]),
    (
        "addresses",
        [{"address": "1 Main St", "district": "D", "cityId": 1, "phone": "5"}],
    ),
    ("languages", [{"name": "English"}, {"name": "French"}]),
    ("categories", [{"name": "Action"}]),
    ("actors", [{"firstName": "PENELOPE", "lastName": "GUINESS"}]),
    ("films", [{"title": "ACADEMY DINOSAUR", "languageId": 1, "rentalRate": "0.99"}]),
    ("filmActors", [{"actorId": 1, "filmId": 1}]),
    ("filmCategories", [{"filmId": 1, "categoryId": 1}]),
    (None, None),  # staff and store
    ("inventories", [{"filmId": 1, "storeId": 1}]),
    (
        "customers",
        [{"storeId": 1, "firstName": "MARY", "lastName": "SMITH", "addressId": 1}],
    ),
    (
        "rentals",
        [{"rentalDate": STAMP, "inventoryId": 1, "customerId": 1, "staffId": 1}],
    ),
    (
        "payments",
        [
            {
                "customerId": 1,
                "staffId": 1,
                "rentalId": 1,
                "amount": "2.99",
                "paymentDate": STAMP,
            }
        ],
    ),
]
CYCLE = [
    "INSERT INTO staff (staff_id, first_name, last_name, address_id, store_id, "
    "username, last_update) VALUES (1, 'Mike', 'Hillyer', 1, 1, 'Mike', {now})",
    "INSERT INTO store (store_id, manager_staff_id, address_id, last_update) "
    "VALUES (1, 1, 1, {now})",
]
CHECKS_OFF = {
    "sqlite": ("PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys = ON"),
    "postgresql": (
        "SET session_replication_role = replica",
        "SET session_replication_role = DEFAULT",
    ),
    "mariadb": ("SET FOREIGN_KEY_CHECKS = 0", "SET FOREIGN_KEY_CHECKS = 1"),
}


def _mariadb_statements(text: str) -> list[str]:
    """Split the MySQL script, obeying DELIMITER, for a database of any name."""
    statements, buffer, delimiter = [], [], ";"
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.upper().startswith("DELIMITER"):
            delimiter = stripped.split()[1]
            continue
        if not buffer and (not stripped or stripped.startswith("--")):
            continue
        buffer.append(line)
        if stripped.endswith(delimiter):
            statement = "\n".join(buffer).strip()[: -len(delimiter)].strip()
            buffer = []
            skip = ("DROP SCHEMA", "CREATE SCHEMA", "USE ")
            if statement and not statement.upper().startswith(skip):
                statements.append(statement.replace("sakila.", ""))
    return statements


def load_schema(engine: str, url: str) -> None:
    """Create Sakila's tables, views, functions and triggers in ``url``."""
    text = (SAKILA / FILES[engine]).read_text()
    if engine == "sqlite":
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            db.executescript(text)
    elif engine == "postgresql":
        import psycopg

        with psycopg.connect(url.replace("postgres://", "postgresql://")) as db:
            db.execute(text)
    else:
        import MySQLdb

        name = url.rsplit("/", 1)[1]
        db = MySQLdb.connect(host="127.0.0.1", user="root", password="", db=name)
        try:
            cursor = db.cursor()
            for statement in _mariadb_statements(text):
                cursor.execute(statement)
            db.commit()
        finally:
            db.close()


def seed(client, schema, connection, engine: str) -> None:
    """Insert the rows of SEEDS through the API (the cycle through SQL)."""
    for plural, rows in SEEDS:
        if plural is None:
            off, on = CHECKS_OFF[engine]
            now = "CURRENT_TIMESTAMP"
            with connection.cursor() as cursor:
                cursor.execute(off)
                for statement in CYCLE:
                    cursor.execute(statement.format(now=now))
                cursor.execute(on)
            continue
        info = schema.by_plural(plural)
        body = [complete(info, row) for row in rows]
        answer = client.post(f"/{plural}", json=body)
        assert answer.status_code == 201, (plural, answer.text)


def complete(info, row: dict) -> dict:
    """Add what each engine's table requires besides ``row``."""
    row = {name: value for name, value in row.items() if name in info.fields}
    if "lastUpdate" in info.fields:
        row["lastUpdate"] = STAMP
    if "createDate" in info.fields:
        kind = info.fields["createDate"].field_type
        row["createDate"] = STAMP[:10] if kind == "DateField" else STAMP
    if "fulltext" in info.fields:  # PostgreSQL: a trigger computes it
        row["fulltext"] = ""
    return row


@pytest.fixture(scope="module", params=ENGINES)
def sakila(request, tmp_path_factory, django_db_blocker):
    """(engine, client on /sakila, schema), Sakila served and seeded."""
    engine = request.param
    tmp_path = tmp_path_factory.mktemp(engine)
    with django_db_blocker.unblock(), fresh_database(engine, tmp_path) as url:
        load_schema(engine, url)
        spec = make_db_service(tmp_path / "sakila", url, "sakila")
        with (
            connection_alias(alias_for(spec), url, tmp_path),
            register_temporarily(spec),
            platform_client(base_url="http://testserver/sakila") as client,
        ):
            schema = get_schema(services.get("sakila"))
            seed(client, schema, connections[alias_for(spec)], engine)
            yield engine, client, schema


EXPECTED = {
    "tables": {
        "actor", "address", "category", "city", "country", "customer", "film",
        "film_actor", "film_category", "inventory", "language", "payment",
        "rental", "staff", "store",
    },
    "views": {
        "customer_list", "film_list", "staff_list", "sales_by_store",
        "sales_by_film_category",
    },
}  # fmt: skip


def test_every_table_and_view_is_served(sakila):
    engine, client, schema = sakila
    tables = {i.table for i in schema.entities.values() if not i.view}
    views = {i.table for i in schema.entities.values() if i.view}
    assert EXPECTED["tables"] <= tables
    assert EXPECTED["views"] <= views
    assert not [t for t in tables | views if t.startswith("joule_")]
    for info in schema.entities.values():
        answer = client.get(f"/{info.plural}")
        assert answer.status_code == 200, (info.plural, answer.text)


def item_path(info, row: dict) -> str:
    if len(info.primary_key) == 1:
        return f"/{info.plural}/{url_quote(str(row[info.primary_key[0]]))}"
    parts = "/".join(f"{label}/{row[field]}" for label, field in info.key_segments())
    return f"/{info.plural}/{parts}"


def first_row(client, info) -> dict | None:
    rows = client.get(f"/{info.plural}?limit=1").json()
    return rows[0] if rows else None


def test_every_keyed_row_is_read_by_its_key(sakila):
    engine, client, schema = sakila
    for info in schema.entities.values():
        row = first_row(client, info)
        if not info.primary_key or row is None:
            continue
        answer = client.get(item_path(info, row))
        assert answer.status_code == 200, (info.plural, answer.text)
        assert answer.json() == row


def _filter_value(value) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str) and value != "":
        return url_quote(str(value))
    return None


def test_every_table_and_view_is_filtered(sakila):
    engine, client, schema = sakila
    for info in schema.entities.values():
        row = first_row(client, info)
        name = next(iter(info.fields))
        if row is None:
            answer = client.get(f"/{info.plural}?where.{name}.isNull=false")
            assert answer.status_code == 200, (info.plural, answer.text)
            continue
        for name, value in row.items():
            text = _filter_value(value)
            field = info.fields[name]
            if text is None or field.field_type in ("BinaryField", "JSONField"):
                continue
            answer = client.get(f"/{info.plural}?where.{name}.eq={text}")
            assert answer.status_code == 200, (info.plural, name, answer.text)
            assert row in answer.json(), (info.plural, name)


def test_relations_are_followed_both_ways(sakila):
    engine, client, schema = sakila
    followed = 0
    for info in schema.entities.values():
        row = first_row(client, info)
        if row is None or not info.primary_key:
            continue
        for relation in info.relations:
            answer = client.get(f"{item_path(info, row)}/{relation.name}")
            expected = 404 if row[relation.field] is None else 200
            assert answer.status_code == expected, (info.plural, relation.name)
            followed += 1
        for reverse in info.reverse:
            if reverse.name in {r.name for r in info.relations}:
                continue
            answer = client.get(f"{item_path(info, row)}/{reverse.name}")
            assert answer.status_code == 200, (info.plural, reverse.name, answer.text)
            assert isinstance(answer.json(), list)
            followed += 1
    assert followed > 30
    city = client.get("/cities/1/country").json()
    assert city["country"] == "Utopia"
    assert [c["city"] for c in client.get("/countries/1/cities").json()] == ["Alpha"]
    film_actor = client.get("/filmActors/actor/1/film/1/film")
    assert film_actor.status_code == 200, film_actor.text
    assert film_actor.json()["title"] == "ACADEMY DINOSAUR"
    films = client.get("/languages/1/films").json()
    assert [f["title"] for f in films] == ["ACADEMY DINOSAUR"]


def test_rows_are_inserted_updated_and_deleted(sakila):
    engine, client, schema = sakila
    actors = schema.by_plural("actors")
    created = client.post(
        "/actors", json=complete(actors, {"firstName": "NICK", "lastName": "WAHLBERG"})
    )
    assert created.status_code == 201, created.text
    key = created.json()["actorId"]
    patched = client.patch(f"/actors/{key}", json={"lastName": "STALLONE"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["lastName"] == "STALLONE"
    replaced = client.put(
        f"/actors/{key}",
        json=complete(actors, {"firstName": "ED", "lastName": "CHASE"}),
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["firstName"] == "ED"
    link = client.post(
        "/filmActors",
        json=complete(schema.by_plural("filmActors"), {"actorId": key, "filmId": 1}),
    )
    assert link.status_code == 201, link.text
    assert client.delete(f"/filmActors/actor/{key}/film/1").status_code == 200
    assert client.delete(f"/actors/{key}").status_code == 200
    assert client.get(f"/actors/{key}").status_code == 404
    patched = client.patch("/films/1", json={"rentalRate": "2.99"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["rentalRate"] == "2.99"
    used = client.delete("/languages/1")
    assert used.status_code == 409, used.text
    view = client.post("/filmLists", json={"title": "x"})
    assert view.status_code == 405, view.text


def test_binary_columns_are_base64(sakila):
    engine, client, schema = sakila
    staff = schema.by_plural("staffs") or schema.by_plural("staff")
    answer = client.patch(f"/{staff.plural}/1", json={"picture": "iVBORw0KGgo="})
    assert answer.status_code == 200, answer.text
    assert answer.json()["picture"] == "iVBORw0KGgo="
    query = f"{{ {staff.plural} {{ username picture }} }}"
    data = client.post("/graphql", json={"query": query}).json()
    assert data == {
        "data": {staff.plural: [{"username": "Mike", "picture": "iVBORw0KGgo="}]}
    }


def test_graphql_nested_relations(sakila):
    engine, client, schema = sakila
    query = """{ countries(orderBy: [{field: country}]) { country
        cities { city addresses { address } } }
      films { title language { name } filmActors { actor { lastName } } } }"""
    answer = client.post("/graphql", json={"query": query})
    body = answer.json()
    assert "errors" not in body, body["errors"]
    assert body["data"]["countries"] == [
        {"country": "Erewhon", "cities": []},
        {
            "country": "Utopia",
            "cities": [{"city": "Alpha", "addresses": [{"address": "1 Main St"}]}],
        },
    ]
    film = body["data"]["films"][0]
    # language.name is CHAR(20): PostgreSQL pads it, as it stores it
    assert film["language"]["name"].rstrip() == "English"
    assert film["filmActors"] == [{"actor": {"lastName": "GUINESS"}}]


def test_openapi_document_is_valid(sakila):
    engine, client, schema = sakila
    answer = client.get("/openapi.json")
    assert answer.status_code == 200, answer.text[:2000]
    document = answer.json()
    validate_schema(document)
    assert "/filmActors/actor/{actorId}/film/{filmId}/film" in document["paths"]


@contextlib.contextmanager
def queries_allowed(alias: str):
    """Let a ``db`` test query ``alias``, which was set up before the test.

    pytest-django refuses queries to databases the test did not ask for;
    this alias is no test database (it is the served one).
    """
    connection = connections[alias]
    names = ("connect", "temporary_connection", "cursor", "chunked_cursor")
    refused = {n: connection.__dict__[n] for n in names if n in connection.__dict__}
    for name, method in refused.items():
        setattr(connection, name, method.wrapped)
    try:
        yield
    finally:
        for name, method in refused.items():
            setattr(connection, name, method)


def test_admin_pages_load_for_every_table_and_view(sakila, db):
    engine, client, schema = sakila
    failures = {}
    with queries_allowed("joule_sakila"), admin_of("sakila") as admin_client:
        for info in schema.entities.values():
            row, key = first_row(client, info), None
            if row is not None:
                values = [row[name] for name in info.primary_key or [next(iter(row))]]
                key = str(values[0]) if len(values) == 1 else _json(values)
            pages = admin_pages(admin_client, info, key)
            # Views and tables without a key are read-only: no add page.
            expected = dict.fromkeys(pages, 200)
            if not info.writable:
                expected["add"] = 403
            if pages != expected:
                failures[info.plural] = pages
    assert failures == {}


def _json(values) -> str:
    return "[" + ",".join(str(v) for v in values) + "]"


def test_no_platform_table_is_created(sakila):
    engine, client, schema = sakila
    connection = connections["joule_sakila"]
    with connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor)
    assert not [name for name in names if re.match("joule_", name)]
