"""Inserts compiled once per shape store what the ORM stores, on every engine.

The first insert of a shape goes through ``Model.save``; the second runs the
kept SQL. Each case inserts twice and compares both rows, as returned and as
the ORM reads them back.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connections
from django.db.models.signals import post_save

from platform_core.db.connections import alias_for
from platform_core.entities import entities

KEY = {
    "sqlite": "INTEGER PRIMARY KEY",
    "postgresql": "SERIAL PRIMARY KEY",
    "mariadb": "INTEGER AUTO_INCREMENT PRIMARY KEY",
}
STAMP = {"sqlite": "TIMESTAMP", "postgresql": "TIMESTAMPTZ", "mariadb": "DATETIME(6)"}
SCHEMA = """
CREATE TABLE things (
    id {key}, name VARCHAR(20) NOT NULL, stock INTEGER NOT NULL DEFAULT 7,
    price DECIMAL(8, 2), ok BOOLEAN, code CHAR(36), created_at {stamp} NULL,
    updated_at {stamp} NULL
);
CREATE TABLE tags (label VARCHAR(20) PRIMARY KEY, weight INTEGER DEFAULT 1);
"""
SHAPES = [
    ("things", {"name": "plain"}),
    ("things", {"name": "full", "stock": 3, "price": "2.50", "ok": True}),
    ("things", {"name": "nulls", "price": None, "ok": None}),
    ("things", {"name": "code", "code": str(uuid.UUID(int=7))}),
    ("tags", {"label": "{n}"}),
    ("tags", {"label": "{n}", "weight": 9}),
]


@pytest.fixture
def shop(db_service, engine):
    connection = connections[alias_for(db_service)]
    script = SCHEMA.format(key=KEY[engine], stamp=STAMP[engine])
    with connection.cursor() as cursor:
        for statement in connection.ops.prepare_sql_script(script):
            cursor.execute(statement)
    return entities(db_service.id)


@pytest.mark.parametrize("plural, body", SHAPES)
def test_the_second_insert_of_a_shape_stores_what_the_orm_stores(shop, plural, body):
    entity = shop[plural.rstrip("s")]
    rows = []
    for n in ("first", "second"):
        row = {k: v.format(n=n) if isinstance(v, str) else v for k, v in body.items()}
        rows.append(entity.insert([row])[0])
    shapes = list(entity._inserts._shapes.values())
    assert len(shapes) == 1 and shapes[0] is not None, "the ORM's SQL was not kept"
    key = entity.info.primary_key[0]
    for row in rows:
        assert entity.get({key: row[key]}) == row
    first, second = rows
    changing = {key, "name", "label", "createdAt", "updatedAt"}
    assert {k: v for k, v in first.items() if k not in changing} == {
        k: v for k, v in second.items() if k not in changing
    }
    if key == "id":
        assert second["id"] == first["id"] + 1
    if "stock" in first and "stock" not in body:
        assert first["stock"] == second["stock"] == 7  # the database default


def test_bulk_inserts_reuse_the_shape_and_keep_their_order(shop):
    things = shop["thing"]
    stored = things.insert([{"name": f"n{i}", "stock": i} for i in range(5)])
    assert [row["stock"] for row in stored] == list(range(5))
    assert [things.get({"id": row["id"]}) for row in stored] == stored


def test_models_with_save_receivers_are_saved_by_the_orm(shop):
    things = shop["thing"]
    seen = []

    def receiver(sender, instance, created, **kwargs):
        seen.append((instance.name, created))

    post_save.connect(receiver, sender=things.info.model)
    try:
        things.insert([{"name": "a"}])
        things.insert([{"name": "b"}])
    finally:
        post_save.disconnect(receiver, sender=things.info.model)
    assert seen == [("a", True), ("b", True)]


def test_a_failed_insert_of_a_known_shape_is_the_usual_error(shop):
    tags = shop["tag"]
    tags.insert([{"label": "x"}])
    tags.insert([{"label": "y"}])
    with pytest.raises(Exception) as caught:
        tags.insert([{"label": "x"}])
    assert getattr(caught.value, "status", None) == 409
    assert [row["label"] for row in tags.find(order_by=[("label", "asc")])] == [
        "x",
        "y",
    ]
