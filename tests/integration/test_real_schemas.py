"""Schemas people have, served as they are: uuid keys, identity and
generated columns, keys of several columns, bytea, jsonb and arrays.

A multi-tenant schema on PostgreSQL (uuid keys from ``gen_random_uuid()``,
a composite key with a uuid part, a two-column foreign key) is exercised
through REST, GraphQL and the Django admin; an existing database is served
by a role that may only read and write rows, and keeps no platform table;
``startservice --kind db`` writes keys each engine generates.
"""

from __future__ import annotations

import base64
import contextlib
import re
import types
import uuid
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connections
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import path

from platform_core import admin_keys
from platform_core.admin import build_model_admin
from platform_core.config.types import PlatformConfig
from platform_core.db.connections import alias_for
from platform_core.db.migrator import Migrator
from platform_core.entities import entities
from platform_core.kinds.db import DbKind
from platform_core.scaffold import render_service, write_files
from platform_core.testing import platform_client, register_temporarily
from tests.databases import ENGINES, _pg_admin, connection_alias, fresh_database
from tests.integration.conftest import make_db_service

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TENANTS = """
CREATE TABLE tenants (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL UNIQUE,
  settings jsonb NOT NULL DEFAULT '{}'
);
CREATE TABLE projects (
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  name text NOT NULL,
  tags text[] NOT NULL DEFAULT '{}',
  meta jsonb,
  PRIMARY KEY (tenant_id, id)
);
CREATE TABLE tasks (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  project_id uuid NOT NULL,
  title text NOT NULL,
  labels text[],
  FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id)
);
CREATE TABLE counters (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  label text NOT NULL,
  doubled integer GENERATED ALWAYS AS (length(label) * 2) STORED
);
CREATE TABLE files (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid REFERENCES tenants (id),
  content bytea
);
"""


@pytest.fixture
def tenants(db, tmp_path, django_db_blocker):
    """The service "saas" on a fresh PostgreSQL database with TENANTS."""
    with (
        django_db_blocker.unblock(),
        fresh_database("postgresql", tmp_path) as url,
    ):
        spec = make_db_service(tmp_path / "saas", url, "saas")
        with (
            connection_alias(alias_for(spec), url, tmp_path),
            register_temporarily(spec),
        ):
            with connections[alias_for(spec)].cursor() as cursor:
                cursor.execute(TENANTS)
            with platform_client(base_url="http://testserver/saas") as client:
                yield client


def gql(client, query: str, variables: dict | None = None) -> dict:
    answer = client.post("/graphql", json={"query": query, "variables": variables})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def error(answer, status: int, code: str) -> str:
    body = answer.json()
    assert answer.status_code == status, body
    assert body["code"] == code, body
    return body["message"]


def seed(client) -> dict:
    """Two tenants, a project each, two tasks in the first project."""
    acme = client.post("/tenants", json={"name": "acme"}).json()
    globex = client.post("/tenants", json={"name": "globex"}).json()
    first = client.post(
        "/projects",
        json={"tenantId": acme["id"], "name": "rocket", "tags": ["a", "b"]},
    )
    assert first.status_code == 201, first.text
    second = client.post(
        "/projects", json={"tenantId": globex["id"], "name": "dynamo", "meta": {}}
    ).json()
    project = first.json()
    tasks = client.post(
        "/tasks",
        json=[
            {"tenantId": acme["id"], "projectId": project["id"], "title": t}
            for t in ("fuel", "launch")
        ],
    )
    assert tasks.status_code == 201, tasks.text
    return {
        "acme": acme,
        "globex": globex,
        "project": project,
        "location": first.headers["Location"],
        "other": second,
        "tasks": tasks.json(),
    }


def test_uuid_keys_come_from_the_database_default(tenants):
    answer = tenants.post("/tenants", json={"name": "acme"})
    assert answer.status_code == 201, answer.text
    row = answer.json()
    assert UUID_RE.match(row["id"]) and row["settings"] == {}
    assert answer.headers["Location"] == f"/saas/tenants/{row['id']}"
    assert tenants.get(f"/tenants/{row['id']}").json() == row


def test_uuid_keyed_rows_are_patched_and_replaced(tenants):
    row = tenants.post("/tenants", json={"name": "acme"}).json()
    patched = tenants.patch(f"/tenants/{row['id']}", json={"name": "acme inc"})
    assert patched.status_code == 200, patched.text
    assert patched.json() == {**row, "name": "acme inc"}
    replaced = tenants.put(
        f"/tenants/{row['id']}", json={"name": "acme", "settings": {"a": 1}}
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json() == {"id": row["id"], "name": "acme", "settings": {"a": 1}}
    new = str(uuid.uuid4())
    created = tenants.put(f"/tenants/{new}", json={"name": "initech"})
    assert created.status_code == 201, created.text
    assert created.json()["id"] == new
    message = error(
        tenants.patch("/tenants/nope", json={"name": "x"}), 400, "INVALID_VALUE"
    )
    assert message == "Invalid value 'nope' for \"id\" in the key: expected a UUID"


def test_composite_uuid_key_routes_and_relations_both_ways(tenants):
    data = seed(tenants)
    acme, project = data["acme"], data["project"]
    item = f"/projects/tenant/{acme['id']}/id/{project['id']}"
    assert data["location"] == "/saas" + item
    assert UUID_RE.match(project["id"]) and project["tags"] == ["a", "b"]
    assert tenants.get(item).json() == project
    patched = tenants.patch(item, json={"meta": {"stage": 2}, "tags": ["c"]})
    assert patched.status_code == 200, patched.text
    assert patched.json()["meta"] == {"stage": 2}
    # the composite-key row's route to its parent, and its children over
    # the two-column foreign key
    assert tenants.get(f"{item}/tenant").json() == acme
    children = tenants.get(f"{item}/tasks?orderby.title=asc").json()
    assert [t["title"] for t in children] == ["fuel", "launch"]
    task = data["tasks"][0]
    assert tenants.get(f"/tasks/{task['id']}/project").json()["name"] == "rocket"
    assert tenants.get(f"/tasks/{task['id']}/tenant").json() == acme
    listed = tenants.get(f"/tenants/{acme['id']}/projects").json()
    assert [p["name"] for p in listed] == ["rocket"]
    other = f"/projects/tenant/{data['globex']['id']}/id/{data['other']['id']}"
    assert tenants.get(f"{other}/tasks").json() == []
    missing = f"/projects/tenant/{acme['id']}/id/{uuid.uuid4()}/tasks"
    assert error(tenants.get(missing), 404, "NOT_FOUND") == "No project with that key"


def test_uuid_schema_filters_writes_and_deletes(tenants):
    data = seed(tenants)
    rows = tenants.get("/projects?where.tags.contains=a").json()
    assert [p["name"] for p in rows] == ["rocket"]
    rows = tenants.get(f"/tasks?where.tenantId.eq={data['acme']['id']}").json()
    assert len(rows) == 2
    task = data["tasks"][1]
    put = tenants.put(
        f"/tasks/{task['id']}",
        json={**task, "title": "land", "labels": ["x", "y"]},
    )
    assert put.status_code == 200, put.text
    assert put.json()["labels"] == ["x", "y"]
    bad = tenants.post(
        "/tasks",
        json={
            "tenantId": data["globex"]["id"],
            "projectId": data["project"]["id"],
            "title": "cross-tenant",
        },
    )
    assert error(bad, 409, "CONSTRAINT_VIOLATION").startswith("Constraint violation")
    deleted = tenants.delete(f"/tasks/{task['id']}")
    assert deleted.status_code == 200 and deleted.json()["title"] == "land"
    assert tenants.get(f"/tasks/{task['id']}").status_code == 404


def test_graphql_relations_over_uuid_and_two_column_keys_are_batched(tenants):
    seed(tenants)
    query = """{ tenants(orderBy: [{field: name}]) { name
        projects { name tasks(orderBy: [{field: title}]) { title } } }
      tasks(orderBy: [{field: title}]) { title
        project { name tenant { name } } tenant { name } } }"""
    connection = connections["joule_saas"]
    with CaptureQueriesContext(connection) as queries:
        data = gql(tenants, query)
    assert data["tenants"] == [
        {
            "name": "acme",
            "projects": [
                {"name": "rocket", "tasks": [{"title": "fuel"}, {"title": "launch"}]}
            ],
        },
        {"name": "globex", "projects": [{"name": "dynamo", "tasks": []}]},
    ]
    assert data["tasks"][0] == {
        "title": "fuel",
        "project": {"name": "rocket", "tenant": {"name": "acme"}},
        "tenant": {"name": "acme"},
    }
    # one query per list and per relation level, whatever the row count
    assert len(queries) == 7, [q["sql"] for q in queries]


def test_graphql_saves_a_uuid_keyed_row(tenants):
    created = gql(tenants, 'mutation { saveTenant(input: {name: "acme"}) { id } }')
    key = created["saveTenant"]["id"]
    saved = gql(
        tenants,
        'mutation ($id: String) { saveTenant(input: {id: $id, name: "acme 2"})'
        " { id name } }",
        {"id": key},
    )
    assert saved["saveTenant"] == {"id": key, "name": "acme 2"}


def test_identity_always_columns_are_never_written(tenants):
    created = tenants.post("/counters", json={"label": "ab"})
    assert created.status_code == 201, created.text
    assert created.json() == {"id": 1, "label": "ab", "doubled": 4}
    message = error(
        tenants.post("/counters", json={"id": 7, "label": "x"}), 400, "READ_ONLY"
    )
    assert message == (
        '"id" is generated by the database (GENERATED ALWAYS); leave it out of the body'
    )
    message = error(
        tenants.post("/counters", json={"label": "x", "doubled": 2}), 400, "READ_ONLY"
    )
    assert message.startswith('"doubled" is generated by the database')
    patched = tenants.patch("/counters/1", json={"label": "abc"})
    assert patched.status_code == 200, patched.text
    assert patched.json() == {"id": 1, "label": "abc", "doubled": 6}
    replaced = tenants.put("/counters/1", json={"id": 1, "label": "a"})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json() == {"id": 1, "label": "a", "doubled": 2}
    message = error(tenants.put("/counters/5", json={"label": "q"}), 400, "READ_ONLY")
    assert message.startswith('"id" is generated by the database')
    assert tenants.get("/counters?totalCount=true").headers["X-Total-Count"] == "1"


def test_bytea_is_base64_in_rest_and_graphql(tenants):
    content = base64.b64encode(b"\x00\x01binary\xff").decode()
    created = tenants.post("/files", json={"content": content})
    assert created.status_code == 201, created.text
    assert created.json()["content"] == content
    assert gql(tenants, "{ files { content } }")["files"] == [{"content": content}]
    key = created.json()["id"]
    patched = tenants.patch(f"/files/{key}", json={"content": "aGk="})
    assert patched.json()["content"] == "aGk="
    message = error(
        tenants.post("/files", json={"content": "not base64!"}), 400, "INVALID_VALUE"
    )
    assert message == (
        "Invalid value 'not base64!' for \"content\" in body: expected base64 text"
    )


# the Django admin


class _Site(admin.AdminSite):
    """An admin site of one temporary service (not an installed app)."""

    def get_app_list(self, request, app_label=None):
        return []


@contextlib.contextmanager
def admin_of(service_id: str):
    """Serve /admin/ with the entities of ``service_id``; yield a superuser client."""
    site = _Site(name="admin")
    for entity in entities(service_id):
        admin_class = build_model_admin(entity)
        if len(entity.info.primary_key) > 1:
            admin_keys.register(site, entity.info.model, admin_class)
        else:
            site.register(entity.info.model, admin_class)
    urls = types.ModuleType("joule_test_admin_urls")
    urls.urlpatterns = [path("admin/", site.urls)]
    ContentType.objects.clear_cache()
    client = Client()
    user = User.objects.create_superuser("root-" + uuid.uuid4().hex[:8])
    client.force_login(user)
    try:
        with override_settings(ROOT_URLCONF=urls):
            yield client
    finally:
        user.delete()
        ContentType.objects.filter(app_label=service_id).delete()
        ContentType.objects.clear_cache()


def admin_pages(client, info, keys) -> dict[str, int]:
    """Return the status of the changelist, add and change pages."""
    meta = info.model._meta
    base = f"/admin/{meta.app_label}/{meta.model_name}/"
    pages = {"changelist": base, "add": base + "add/"}
    if keys is not None:
        pages["change"] = f"{base}{admin.utils.quote(keys)}/change/"
    return {name: client.get(url).status_code for name, url in pages.items()}


def test_admin_adds_and_edits_uuid_keyed_rows(tenants):
    data = seed(tenants)
    tenants.post("/counters", json={"label": "ab"})
    tenants.post("/files", json={"content": "aGk="})
    with admin_of("saas") as client:
        added = client.post(
            "/admin/saas/tenant/add/", {"name": "initech", "settings": "{}"}
        )
        assert added.status_code == 302, added.content.decode()[:2000]
        row = tenants.get("/tenants?where.name.eq=initech").json()[0]
        assert UUID_RE.match(row["id"])
        changed = client.post(
            f"/admin/saas/tenant/{row['id']}/change/",
            {"id": row["id"], "name": "initech 2", "settings": '{"x": 1}'},
        )
        assert changed.status_code == 302, changed.content.decode()[:2000]
        assert tenants.get(f"/tenants/{row['id']}").json()["settings"] == {"x": 1}
        saas = entities("saas")
        acme, project = data["acme"]["id"], data["project"]["id"]
        keys = {
            "tenant": row["id"],
            "project": f'["{acme}","{project}"]',
            "task": data["tasks"][0]["id"],
            "counter": "1",
            "file": tenants.get("/files").json()[0]["id"],
        }
        for name, key in keys.items():
            assert admin_pages(client, saas[name].info, key) == {
                "changelist": 200,
                "add": 200,
                "change": 200,
            }, name


# an existing database, served as it is


def test_an_existing_database_is_served_by_a_role_that_only_reads_and_writes(
    db, tmp_path, django_db_blocker
):
    role = "joule_rw_" + uuid.uuid4().hex[:10]
    with _pg_admin() as server:
        server.execute(f"CREATE ROLE {role} LOGIN")
    try:
        with django_db_blocker.unblock(), fresh_database("postgresql", tmp_path) as url:
            _serve_as(role, url, tmp_path)
    finally:
        with _pg_admin() as server:  # the database (and its grants) is gone
            server.execute(f"DROP ROLE IF EXISTS {role}")


def _serve_as(role: str, url: str, tmp_path: Path) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(
        url.replace("postgres://", "postgresql://"), autocommit=True
    ) as owner:
        owner.execute(
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC;"
            "CREATE TABLE notes (id SERIAL PRIMARY KEY, body text NOT NULL);"
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON notes TO {role};"
            f"GRANT USAGE ON SEQUENCE notes_id_seq TO {role};"
        )
        limited = f"postgres://{role}@127.0.0.1:5432/{name}"
        spec = make_db_service(tmp_path / "legacy", limited, "legacy")
        with (
            connection_alias(alias_for(spec), limited, tmp_path),
            register_temporarily(spec),
        ):
            assert DbKind().check_ready(spec) == (True, "ok")
            assert Migrator(spec).pending() == []
            with platform_client(base_url="http://testserver/legacy") as client:
                created = client.post("/notes", json={"body": "hi"})
                assert created.status_code == 201, created.text
                assert client.get("/notes").json() == [{"id": 1, "body": "hi"}]
            ready = client_ready(spec.id)
            assert ready == {"ready": True, "detail": "ok"}
        tables = owner.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        assert sorted(t for (t,) in tables) == ["notes"]


def client_ready(service_id: str) -> dict:
    with platform_client() as client:
        return client.get("/_joule/ready").json()["services"][service_id]


# startservice --kind db


@pytest.mark.parametrize("engine", ENGINES)
def test_a_new_db_service_generates_keys_on_every_engine(
    engine, db, tmp_path, django_db_blocker
):
    config = PlatformConfig(root=tmp_path, services=())
    files = render_service(config, "stock", "db")
    write_files(files)
    folder = tmp_path / "services" / "stock"
    with django_db_blocker.unblock(), fresh_database(engine, tmp_path) as url:
        spec = make_db_service(folder, url, "stock")
        with (
            connection_alias(alias_for(spec), url, tmp_path),
            register_temporarily(spec),
        ):
            assert [m.version for m in Migrator(spec).apply()] == [1]
            with platform_client(base_url="http://testserver/stock") as client:
                first = client.post("/stockItems", json={"name": "bolt"})
                second = client.post("/stockItems", json={"name": "nut"})
            assert (first.status_code, second.status_code) == (201, 201), first.text
            assert [first.json()["id"], second.json()["id"]] == [1, 2]


def test_services_lists_an_existing_database_as_ready(
    db, tmp_path, django_db_blocker, capsys
):
    with django_db_blocker.unblock(), fresh_database("sqlite", tmp_path) as url:
        spec = make_db_service(tmp_path / "old", url, "old")
        with (
            connection_alias(alias_for(spec), url, tmp_path),
            register_temporarily(spec),
        ):
            with connections[alias_for(spec)].cursor() as cursor:
                cursor.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
            call_command("services")
            with connections[alias_for(spec)].cursor() as cursor:
                names = connections[alias_for(spec)].introspection.table_names(cursor)
    assert re.search(r"^old\s+db\s+/old\s+ready$", capsys.readouterr().out, re.M)
    assert names == ["notes"]
