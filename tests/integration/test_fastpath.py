"""The generated API's fast routes and the compiled reads under them.

``test_rest_api`` runs every REST behaviour through both paths; here: that
the fast routes really skip Django's request cycle and answer with the same
headers, that reads compiled once per shape give the ORM's rows for new
values, and that a database going away is a 503 and coming back recovers.
"""

from __future__ import annotations

import pytest
from django.core.signals import request_started
from django.db import connections

from platform_core.db.connections import alias_for
from platform_core.entities import Entity, EntityHooks, entities
from platform_core.fastpath import targets as fastpath
from platform_core.testing import asgi_client, platform_client
from tests.databases import postgres_down

KEY = {
    "sqlite": "INTEGER PRIMARY KEY",
    "postgresql": "SERIAL PRIMARY KEY",
    "mariadb": "INTEGER AUTO_INCREMENT PRIMARY KEY",
}
SCHEMA = """
CREATE TABLE kinds (id {key}, name VARCHAR(20) NOT NULL);
CREATE TABLE items (
    id {key}, name VARCHAR(20) NOT NULL, price DECIMAL(8, 2), stock INTEGER,
    kind_id INTEGER, FOREIGN KEY (kind_id) REFERENCES kinds (id)
);
"""
KINDS = [{"name": "Tool"}, {"name": "Toy"}]
ITEMS = [
    {
        "name": f"Item {i}",
        "price": f"{i}.50",
        "stock": i % 4 or None,
        "kindId": i % 2 + 1,
    }
    for i in range(1, 13)
]


@pytest.fixture
def shop(db_service, engine):
    """The "shop" service with kinds and items, seeded."""
    connection = connections[alias_for(db_service)]
    with connection.cursor() as cursor:
        for statement in connection.ops.prepare_sql_script(
            SCHEMA.format(key=KEY[engine])
        ):
            cursor.execute(statement)
    with platform_client(base_url="http://testserver/shop") as client:
        assert client.post("/kinds", json=KINDS).status_code == 201
        assert client.post("/items", json=ITEMS).status_code == 201
    return db_service


@pytest.fixture
def django_requests():
    """The paths Django's request cycle started, in order."""
    seen = []

    def record(sender, environ=None, scope=None, **kwargs):
        seen.append((environ or {}).get("PATH_INFO") or (scope or {}).get("path"))

    request_started.connect(record)
    yield seen
    request_started.disconnect(record)


FAST = [
    ("GET", "/items?limit=3&orderby.price=desc"),
    ("GET", "/items?where.price.gt=3&where.kindId.eq=2&fields=id,name&totalCount=true"),
    ("GET", "/items/4"),
    ("GET", "/items/4/kind"),
    ("GET", "/kinds/1/items?limit=2"),
    ("GET", "/items/999"),  # a 404 from the view, still on the fast route
    ("GET", "/items?where.nope.eq=1"),  # a 400 from the view
]


@pytest.mark.parametrize("method, path", FAST)
def test_reads_skip_django_and_answer_as_django_does(
    shop, django_requests, method, path
):
    with platform_client(base_url="http://testserver/shop") as client:
        slow = client.request(method, path)
    with asgi_client(base_url="http://testserver/shop") as client:
        quick = client.request(method, path)
    assert django_requests == [], "the fast route went through Django"
    assert (quick.status_code, quick.json()) == (slow.status_code, slow.json())
    ignored = {"x-request-id", "content-length", "transfer-encoding"}
    assert {k: v for k, v in quick.headers.items() if k not in ignored} == {
        k: v for k, v in slow.headers.items() if k not in ignored
    }
    assert quick.headers["x-request-id"]


def test_insert_skips_django_and_returns_the_row_with_its_location(
    shop, django_requests
):
    with asgi_client(base_url="http://testserver/shop") as client:
        created = client.post("/items", json={"name": "New", "price": "1.25"})
        bad = client.post("/items", json={"name": "New", "kindId": 99})
        not_json = client.post("/items", content=b"name=x")
        listed = client.get("/items?where.name.eq=New")
    assert django_requests == []
    assert created.status_code == 201
    assert created.headers["location"] == f"/shop/items/{created.json()['id']}"
    assert created.json()["price"] == "1.25"
    assert bad.status_code == 409
    assert bad.json()["code"] == "CONSTRAINT_VIOLATION"
    assert not_json.status_code == 415
    assert [row["id"] for row in listed.json()] == [created.json()["id"]]


def test_other_methods_and_routes_go_through_django(shop, django_requests):
    with asgi_client(base_url="http://testserver/shop") as client:
        assert client.patch("/items/1", json={"stock": 9}).status_code == 200
        assert client.head("/items").status_code == 200
        assert client.get("/openapi.json").status_code == 200
    assert django_requests == ["/shop/items/1", "/shop/items", "/shop/openapi.json"]


def test_entities_whose_hooks_scope_rows_never_take_the_fast_route(shop):
    class OwnRows(EntityHooks):
        pass

    scoped = entities("shop", hooks=OwnRows())["item"]
    plain = entities("shop")["item"]
    assert fastpath.unscoped(type("V", (), {"entity": plain})) is True
    assert fastpath.unscoped(type("V", (), {"entity": scoped})) is False
    mixed = type("V", (), {"entity": plain, "parent": scoped})
    assert fastpath.unscoped(mixed) is False


# Reads compiled once per shape: the second read of a shape runs the kept SQL
# with new values; it must give what the ORM gives for those values.
SHAPES = [
    ({"price": {"gt": "3"}}, {"price": {"gt": "8"}}),
    ({"stock": {"eq": "1"}}, {"stock": {"eq": "3"}}),
    (
        {"stock": {"eq": "null"}, "id": {"gt": "1"}},
        {"stock": {"eq": "null"}, "id": {"gt": "5"}},
    ),
    ({"stock": {"neq": "1"}}, {"stock": {"neq": "2"}}),
    ({"id": {"in": "1,2"}}, {"id": {"in": "5,6,5"}}),  # the ORM drops repeats
    ({"id": {"nin": "1,2,3"}}, {"id": {"nin": "4,5,6"}}),
    ({"name": {"like": "Item 1%"}}, {"name": {"like": "%2"}}),
    ({"name": {"ilike": "item 1%"}}, {"name": {"ilike": "ITEM 2"}}),
    (
        {"kindId": {"eq": "1"}, "price": {"lte": "5"}},
        {"kindId": {"eq": "2"}, "price": {"lte": "9"}},
    ),
    (
        {"or": [{"id": {"eq": "1"}}, {"stock": {"gte": "3"}}]},
        {"or": [{"id": {"eq": "2"}}, {"stock": {"gte": "2"}}]},
    ),
    (
        {"stock": {"isNull": "false"}, "id": {"lt": "3"}},
        {"stock": {"isNull": "false"}, "id": {"lt": "9"}},
    ),
]


def orm_rows(entity: Entity, where: dict) -> list[dict]:
    """The rows the ORM itself returns for ``where`` (no shape cache)."""
    from platform_core.entities.where import build_where

    model = entity.info.model
    queryset = model._default_manager.using(entity.alias).filter(
        build_where(entity.info, where, from_text=True)
    )
    names = tuple(entity.info.fields)
    attnames = [entity.info.fields[n].attname for n in names]
    return [
        dict(zip(names, row, strict=True))
        for row in queryset.order_by("id").values_list(*attnames)
    ]


@pytest.mark.parametrize("first, second", SHAPES)
def test_a_shape_read_again_with_new_values_gives_the_orm_rows(shop, first, second):
    items = entities("shop")["item"]
    assert items.find(first, from_text=True, limit=100) == orm_rows(items, first)
    shapes = len(items._reads._shapes)
    assert items.find(second, from_text=True, limit=100) == orm_rows(items, second)
    assert len(items._reads._shapes) == shapes, "the second read compiled again"


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_sqlite_shapes_go_to_the_driver_with_djangos_errors(shop):
    from django.db.utils import OperationalError

    items = entities("shop")["item"]
    assert items.get({"id": 3})["name"] == "Item 3"
    assert items.get({"id": 4})["name"] == "Item 4"  # the kept SQL, as "?"
    (shape,) = items._reads._shapes.values()
    assert "?" in shape.qmark_sql and "%s" not in shape.qmark_sql
    with connections[alias_for(shop)].cursor() as cursor:
        cursor.execute("ALTER TABLE items RENAME TO gone")
    with pytest.raises(OperationalError):  # Django's class, as from its cursor
        items.get({"id": 5})


def test_reads_the_cache_cannot_derive_still_answer(shop):
    items = entities("shop")["item"]
    in_with_null = {"id": {"in": [1, None]}}
    assert [r["id"] for r in items.find(in_with_null, limit=5)] == [1]
    assert items._reads._shapes == {}  # not cached: the ORM answered
    assert items.get({"id": 3})["name"] == "Item 3"
    assert items.get({"id": 4})["name"] == "Item 4"


@pytest.mark.parametrize("engine", ["postgresql"])
def test_a_database_that_goes_away_is_a_503_and_recovery_needs_no_restart(
    shop, database_url
):
    name = database_url.rsplit("/", 1)[1]
    # Fast routes, and a write Django's request cycle serves.
    requests = [
        ("GET", "/items/1", None),
        ("GET", "/items?limit=2", None),
        ("PATCH", "/items/1", {"stock": 2}),
    ]
    with asgi_client(base_url="http://testserver/shop") as client:
        for method, path, body in requests:
            assert client.request(method, path, json=body).status_code == 200
        with postgres_down(name):
            for method, path, body in requests:
                down = client.request(method, path, json=body)
                assert down.status_code == 503, (path, down.text)
                assert down.json()["code"] == "SERVICE_UNAVAILABLE"
                # the same message whichever path answered
                assert down.json()["message"] == (
                    "The database is unavailable; retry later"
                )
        for method, path, body in requests:
            assert client.request(method, path, json=body).status_code == 200


def test_routes_not_built_yet_are_built_by_django_then_served_fast(
    shop, django_requests
):
    from platform_core.gateway.routing.urlconfs import forget_urlconfs

    forget_urlconfs(service_id="shop")  # as after a schema change
    with asgi_client(base_url="http://testserver/shop") as client:
        first = client.get("/items/2")
        second = client.get("/items/2")
    assert first.json() == second.json()
    assert first.json()["name"] == "Item 2"
    assert django_requests == ["/shop/items/2"]  # the second took the fast route


@pytest.mark.parametrize("engine", ["postgresql"])
def test_a_database_down_before_the_routes_are_built_is_a_503(shop, database_url):
    from platform_core.db.catalog import forget_schema

    name = database_url.rsplit("/", 1)[1]
    forget_schema("shop")  # the routes must read the tables again
    connections[alias_for(shop)].close()
    with postgres_down(name):
        with platform_client(base_url="http://testserver/shop") as client:
            down = client.get("/items/1")
        assert down.status_code == 503, down.text
        assert down.json()["code"] == "SERVICE_UNAVAILABLE"
    connections[alias_for(shop)].close()
    with platform_client(base_url="http://testserver/shop") as client:
        assert client.get("/items/1").status_code == 200


GRAPHQL = "{ items(orderBy: [{field: id}], limit: 2) { id name kind { name } } }"


def test_a_graphql_query_skips_django_with_the_same_answer(shop, django_requests):
    body = {"query": GRAPHQL}
    with platform_client(base_url="http://testserver/shop") as client:
        by_django = client.post("/graphql", json=body)  # the view, in-process
    with asgi_client(base_url="http://testserver/shop") as client:
        fast = client.post("/graphql", json=body)
        again = client.post("/graphql", json=body)
        assert django_requests == []  # both served on the fast route
        assert fast.status_code == again.status_code == by_django.status_code == 200
        assert fast.json() == again.json() == by_django.json()
        assert fast.json()["data"]["items"][0]["kind"] == {"name": "Toy"}
        assert fast.headers["content-type"] == "application/json"
        assert "x-frame-options" in fast.headers
        # Errors in a field stay on the fast route, worded as Django's.
        limited = client.post(
            "/graphql", json={"query": "{ items(limit: 1000) { id } }"}
        )
        assert limited.status_code == 200 and django_requests == []
        assert limited.json()["errors"][0]["extensions"]["code"] == "INVALID_LIMIT"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"query": "{ nope }"}', "json"),  # invalid: Django answers 400
        ("{not json", "json"),
        ("query=%7B+items+%7B+id+%7D+%7D", "form"),
    ],
    ids=["invalid", "malformed", "form"],
)
def test_other_graphql_requests_go_through_django(
    shop, django_requests, body, content_type
):
    types = {"json": "application/json", "form": "application/x-www-form-urlencoded"}
    headers = {"Content-Type": types[content_type]}
    with asgi_client(base_url="http://testserver/shop") as client:
        answers = [
            client.post("/graphql", content=body, headers=headers) for _ in range(2)
        ]
    assert django_requests == ["/shop/graphql", "/shop/graphql"]
    assert answers[0].status_code == answers[1].status_code


def test_a_mutation_is_written_on_the_fast_route(shop, django_requests):
    mutation = {
        "query": "mutation ($n: String) { saveKind(input: {name: $n}) { id name } }"
    }
    with asgi_client(base_url="http://testserver/shop") as client:
        first = client.post("/graphql", json={**mutation, "variables": {"n": "A"}})
        again = client.post("/graphql", json={**mutation, "variables": {"n": "B"}})
        assert django_requests == []
        assert first.json()["data"]["saveKind"]["name"] == "A"
        assert again.json()["data"]["saveKind"]["name"] == "B"
        names = client.get("/kinds?orderby.id=desc&limit=2&fields=name").json()
    assert names == [{"name": "B"}, {"name": "A"}]
    # Bad variables are a request-level error: Django words it.
    with asgi_client(base_url="http://testserver/shop") as client:
        wrong = client.post("/graphql", json={**mutation, "variables": {"n": 5}})
    assert wrong.status_code == 400 and django_requests[-1] == "/shop/graphql"
