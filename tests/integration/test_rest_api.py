"""The generated REST API of a db service over HTTP, on SQLite, PostgreSQL and MariaDB.

Each test gets the service "shop" (mounted at /shop) on a fresh database with
owners, posts, categories, the composite-key table posts_categories and a view,
seeded through the API itself. Every test runs twice: through Django's
request cycle in-process, and through the ASGI application as servers run it,
where reads and inserts take the fast routes (``rest.fast``); both must
answer alike.
"""

from __future__ import annotations

import datetime
import json
import re
from http import HTTPStatus

import pytest
from django.db import connections

from platform_core.db.connections import alias_for
from platform_core.testing import asgi_client, platform_client

KEY = {
    "sqlite": "INTEGER PRIMARY KEY",
    "postgresql": "SERIAL PRIMARY KEY",
    "mariadb": "INTEGER AUTO_INCREMENT PRIMARY KEY",
}
STAMP = {"postgresql": "TIMESTAMP WITH TIME ZONE"}  # else TIMESTAMP NULL
SCHEMA = """
CREATE TABLE owners (id {key}, name VARCHAR(50) NOT NULL UNIQUE);
CREATE TABLE posts (
    id {key}, title VARCHAR(20) NOT NULL, counter INTEGER NOT NULL DEFAULT 0,
    status VARCHAR(10) DEFAULT 'draft', price DECIMAL(8, 2), published BOOLEAN,
    owner_id INTEGER, created_at {stamp}, updated_at {stamp},
    FOREIGN KEY (owner_id) REFERENCES owners (id)
);
CREATE TABLE categories (id {key}, name VARCHAR(30) NOT NULL);
CREATE TABLE posts_categories (
    post_id INTEGER NOT NULL, category_id INTEGER NOT NULL, weight INTEGER,
    PRIMARY KEY (post_id, category_id),
    FOREIGN KEY (post_id) REFERENCES posts (id),
    FOREIGN KEY (category_id) REFERENCES categories (id)
);
CREATE VIEW post_titles AS SELECT id, title FROM posts;
"""
# fmt: off
SEEDS = {
    "owners": [{"name": "Ada"}, {"name": "Grace"}, {"name": "Linus"}],  # ids 1-3
    "posts": [  # ids 1-5
        {"title": "Dog", "counter": 10, "price": "9.50", "published": True,
         "ownerId": 1},
        {"title": "Cat", "counter": 40, "published": False, "ownerId": 2},
        {"title": "Doghouse", "counter": 40, "price": "120.00"},
        {"title": "Bird", "price": "3.25", "published": True, "ownerId": 1},
        {"title": "Fish", "counter": 25, "price": "7.00", "published": False,
         "ownerId": 1},
    ],
    "categories": [{"name": "News"}, {"name": "Pets"}],
    "postsCategories": [{"postId": 1, "categoryId": 1}, {"postId": 1, "categoryId": 2}],
}
# fmt: on
OLD = datetime.datetime(2001, 1, 1, tzinfo=datetime.UTC)
ANY = re.compile(".+")


@pytest.fixture(params=["django", "asgi"])
def api(request, db_service, engine):
    """An httpx client on /shop, with the tables created and seeded."""
    connection = connections[alias_for(db_service)]
    script = SCHEMA.format(key=KEY[engine], stamp=STAMP.get(engine, "TIMESTAMP NULL"))
    with connection.cursor() as cursor:
        for statement in connection.ops.prepare_sql_script(script):
            cursor.execute(statement)
    make_client = platform_client if request.param == "django" else asgi_client
    with make_client(base_url="http://testserver/shop") as client:
        for plural, rows in SEEDS.items():
            assert client.post(f"/{plural}", json=rows).status_code == 201
        yield client


class _AnyText:
    """Equal to any string (timestamps, engine-specific messages)."""

    def __eq__(self, other):
        return isinstance(other, str)


ANY_TEXT = _AnyText()


def ids(response) -> list:
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()]


def assert_error(response, status: int, code: str, message) -> None:
    """Check the JSON error body; ``message`` is exact text or a pattern."""
    body = response.json()
    assert response.status_code == status, body
    phrase = HTTPStatus(status).phrase
    assert body == {
        "statusCode": status,
        "code": code,
        "error": phrase,
        "message": ANY_TEXT,
    }
    if isinstance(message, re.Pattern):
        assert message.fullmatch(body["message"]), body["message"]
    else:
        assert body["message"] == message


# reads

# fmt: off
WHERE_CASES = [  # (query, expected ids)
    ("where.title.eq=Dog", [1]), ("where.counter.neq=40", [1, 4, 5]),
    ("where.counter.gt=10", [2, 3, 5]), ("where.counter.gte=25", [2, 3, 5]),
    ("where.price.lt=9.5", [4, 5]), ("where.price.lte=9.50", [1, 4, 5]),
    ("where.title.like=%25og%25", [1, 3]), ("where.title.ilike=dog%25", [1, 3]),
    ("where.id.in=1,3,99", [1, 3]), ("where.counter.nin=0,10", [2, 3, 5]),
    ("where.ownerId.isNull=true", [3]), ("where.ownerId.isNull=false", [1, 2, 4, 5]),
    ("where.price.eq=null", [2]), ("where.price.neq=null", [1, 3, 4, 5]),
    ("where.ownerId.neq=1", [2]),  # a NULL owner is not "not 1"
    ("where.published.eq=false", [2, 5]),
    ("where.createdAt.gt=2001-01-01T00:00:00Z", [1, 2, 3, 4, 5]),
    ("where.counter.gte=10&where.ownerId.eq=1", [1, 5]),
    ("where.or=(title.eq=Dog|counter.gte=40)", [1, 2, 3]),
    ("where.or=(id.eq=4|price.isNull=true)&where.counter.lt=40", [4]),
]
# fmt: on


@pytest.mark.parametrize(("query", "expected"), WHERE_CASES)
def test_list_filters_by_each_operator(api, query, expected):
    assert ids(api.get(f"/posts?{query}")) == expected
    counted = api.get(f"/posts?{query}&totalCount=true&limit=0")
    assert counted.json() == []
    assert counted.headers["X-Total-Count"] == str(len(expected))


# fmt: off
LIST_CASES = [  # (path, expected ids)
    ("/posts?orderby.counter=desc&orderby.title=desc", [3, 2, 5, 1, 4]),
    ("/posts?orderby.title=desc&orderby.counter=desc", [5, 3, 1, 2, 4]),
    ("/posts?orderby.counter=asc&orderby.id=desc", [4, 1, 5, 3, 2]),
    ("/posts", [1, 2, 3, 4, 5]),  # primary key order by default
    ("/posts/", [1, 2, 3, 4, 5]),  # with or without the slash
    ("/posts?limit=2", [1, 2]),
    ("/posts?limit=2&offset=2", [3, 4]),
    ("/posts?offset=4", [5]),
    ("/posts?limit=0", []),
]
# fmt: on


@pytest.mark.parametrize(("path", "expected"), LIST_CASES)
def test_list_orders_by_keys_in_query_order_and_pages(api, path, expected):
    assert ids(api.get(path)) == expected


def test_fields_selects_the_returned_fields(api):
    rows = api.get("/posts?fields=title,id&where.id.lte=2").json()
    assert rows == [{"id": 1, "title": "Dog"}, {"id": 2, "title": "Cat"}]
    assert api.get("/posts/1?fields=price").json() == {"price": "9.50"}
    assert api.get("/posts/1/?fields=id").json() == {"id": 1}


def test_default_limit_is_10_and_the_maximum_is_100(api):
    more = [{"name": f"owner {n}"} for n in range(120)]
    assert api.post("/owners", json=more).status_code == 201
    assert len(ids(api.get("/owners"))) == 10
    assert len(ids(api.get("/owners?limit=100"))) == 100
    message = "\"limit\" must be a whole number between 0 and 100, not '101'"
    assert_error(api.get("/owners?limit=101"), 400, "INVALID_LIMIT", message)
    assert api.get("/owners?totalCount=true").headers["X-Total-Count"] == "123"


def walk(api, query: str, param: str, header: str, cursor: str | None = None):
    """Follow cursors until an empty page; return [(ids, response)] per page."""
    pages = []
    while True:
        url = f"/posts?cursor=true&limit=2&{query}"
        response = api.get(url + (f"&{param}={cursor}" if cursor else ""))
        if not (page := ids(response)):
            return pages
        pages.append((page, response))
        cursor = response.headers[header]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", [1, 2, 3, 4, 5]),
        ("orderby.counter=desc", [2, 3, 5, 1, 4]),  # ties broken by the key
        ("orderby.title=asc", [4, 2, 1, 3, 5]),
    ],
)
def test_cursor_pages_forward_and_backward_through_every_row(api, query, expected):
    forward = walk(api, query, "startAfter", "X-Start-After")
    assert [page for page, _ in forward] == [expected[:2], expected[2:4], expected[4:]]
    cursor = forward[-1][1].headers["X-End-Before"]
    backward = walk(api, query, "endBefore", "X-End-Before", cursor)
    assert [page for page, _ in backward] == [expected[2:4], expected[:2]]


def test_cursor_pages_keep_to_the_selected_fields(api):
    query = "/posts?cursor=true&fields=title&orderby.counter=asc"
    first = api.get(f"{query}&limit=3")
    assert first.json() == [{"title": "Bird"}, {"title": "Dog"}, {"title": "Fish"}]
    rest = api.get(f"{query}&startAfter={first.headers['X-Start-After']}")
    assert rest.json() == [{"title": "Cat"}, {"title": "Doghouse"}]


def test_get_by_key_returns_the_row_with_integer_keys_as_json_numbers(api):
    row = json.loads(api.get("/posts/1").text)
    assert row == {
        "id": 1, "title": "Dog", "counter": 10, "status": "draft", "price": "9.50",
        "published": True, "ownerId": 1, "createdAt": ANY_TEXT, "updatedAt": ANY_TEXT,
    }  # fmt: skip
    assert type(row["id"]) is int and type(row["ownerId"]) is int
    link = json.loads(api.get("/postsCategories/post/1/category/2").text)
    assert link == {"postId": 1, "categoryId": 2, "weight": None}
    assert type(link["postId"]) is int and type(link["categoryId"]) is int


# writes


def test_post_answers_201_and_a_location_that_answers_the_row(api):
    response = api.post("/posts", json={"title": "Owl", "ownerId": 2})
    assert response.status_code == 201
    row = response.json()
    assert (row["id"], row["counter"], row["status"], row["price"]) == (
        6,
        0,
        "draft",
        None,
    )
    assert response.headers["Location"] == "/shop/posts/6"
    assert api.get("http://testserver/shop/posts/6").json() == row
    with_key = api.post("/postsCategories", json={"postId": 6, "categoryId": 1})
    assert with_key.headers["Location"] == "/shop/postsCategories/post/6/category/1"
    assert api.post("/posts", json={"id": 100, "title": "Emu"}).json()["id"] == 100


def test_post_of_an_array_inserts_every_row_in_one_transaction(api):
    rows = [{"title": "Owl"}, {"title": "Emu", "counter": 3}, {"title": "Yak"}]
    failing = [*rows[:2], {"title": "Yak", "ownerId": 99}]
    assert_error(api.post("/posts", json=failing), 409, "CONSTRAINT_VIOLATION", ANY)
    assert ids(api.get("/posts")) == [1, 2, 3, 4, 5]
    response = api.post("/posts", json=rows)
    assert response.status_code == 201 and "Location" not in response.headers
    stored = [(r["id"], r["title"], r["counter"]) for r in response.json()]
    assert stored[1:] == [(stored[0][0] + 1, "Emu", 3), (stored[0][0] + 2, "Yak", 0)]
    assert api.get("/posts?where.id.gte=6&limit=100").json() == response.json()


def test_put_replaces_the_row_omitted_columns_become_null_or_default(api):
    api.patch("/posts/1", json={"status": "live"})
    response = api.put("/posts/1", json={"title": "Wolf"})
    assert response.status_code == 200
    row = response.json()
    assert (row["title"], row["counter"], row["status"]) == ("Wolf", 0, "draft")
    assert (row["price"], row["published"], row["ownerId"]) == (None, None, None)
    assert api.get("/posts/1").json() == row


def test_put_creates_a_missing_row(api):
    response = api.put("/posts/50", json={"title": "New", "price": "1.25"})
    assert response.status_code == 201
    assert (response.json()["id"], response.json()["price"]) == (50, "1.25")
    assert api.get("/posts/50").json() == response.json()


def test_patch_changes_only_the_given_fields(api):
    before = api.get("/posts/1").json()
    response = api.patch("/posts/1", json={"counter": 11, "price": None})
    assert response.status_code == 200
    changed = {k: v for k, v in response.json().items() if before[k] != v}
    assert changed.keys() <= {"counter", "price", "updatedAt"}
    assert (changed["counter"], changed["price"]) == (11, None)
    missing = api.patch("/posts/99", json={"counter": 1})
    assert_error(missing, 404, "NOT_FOUND", "No post with that key")


def test_delete_returns_the_deleted_row_then_404(api):
    row = api.get("/posts/4").json()
    response = api.delete("/posts/4")
    assert response.status_code == 200 and response.json() == row
    assert_error(api.get("/posts/4"), 404, "NOT_FOUND", "No post with that key")
    assert_error(api.delete("/posts/4"), 404, "NOT_FOUND", "No post with that key")


def test_put_with_where_updates_the_matching_rows_and_returns_them(api):
    response = api.put(
        "/posts?where.counter.eq=40&fields=id,price", json={"price": "1.5"}
    )
    assert response.status_code == 200
    assert response.json() == [{"id": 2, "price": "1.50"}, {"id": 3, "price": "1.50"}]
    prices = [row["price"] for row in api.get("/posts").json()]
    assert prices == ["9.50", "1.50", "1.50", "3.25", "7.00"]
    assert api.put("/posts?where.id.eq=99", json={"price": "1"}).json() == []


def test_delete_with_where_deletes_the_matching_rows_and_returns_them(api):
    response = api.delete("/posts?where.id.in=4,5&fields=id,title")
    assert response.status_code == 200
    assert response.json() == [{"id": 4, "title": "Bird"}, {"id": 5, "title": "Fish"}]
    assert ids(api.get("/posts")) == [1, 2, 3]


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_writes_by_where_need_a_filter(api, method):
    response = api.request(method, "/posts", json={"price": "1"})
    message = (
        "Give at least one where.<field>.<op> filter; it selects the rows to change"
    )
    assert_error(response, 400, "MISSING_WHERE", message)
    assert [row["price"] for row in api.get("/posts").json()][0] == "9.50"


def test_composite_key_routes_get_put_patch_delete(api):
    path = "/postsCategories/post/2/category/1"
    created = api.put(path, json={"weight": 3})
    assert created.status_code == 201
    assert created.json() == {"postId": 2, "categoryId": 1, "weight": 3}
    replaced = api.put(path, json={})
    assert replaced.status_code == 200 and replaced.json()["weight"] is None
    patched = api.patch(path, json={"weight": 7})
    assert patched.json() == {"postId": 2, "categoryId": 1, "weight": 7}
    assert api.get(path).json() == patched.json()
    assert api.delete(path).json() == patched.json()
    assert_error(api.get(path), 404, "NOT_FOUND", "No postsCategory with that key")


def test_timestamps_are_set_by_the_platform_and_ignored_when_sent(api, db_service):
    sent = {"createdAt": "2000-01-01T00:00:00Z", "updatedAt": "2000-01-01T00:00:00Z"}
    row = api.post("/posts", json={"title": "Owl", **sent}).json()
    stamps = [
        datetime.datetime.fromisoformat(row[k]) for k in ("createdAt", "updatedAt")
    ]
    assert min(stamps) > OLD
    with connections[alias_for(db_service)].cursor() as cursor:
        old = "2001-01-01 00:00:00"
        cursor.execute("UPDATE posts SET created_at = %s, updated_at = %s", [old, old])
    for response in (
        api.patch("/posts/6", json={"counter": 1, **sent}),
        api.put("/posts/1", json={"title": "Dog", **sent}),
    ):
        row = response.json()
        assert datetime.datetime.fromisoformat(row["createdAt"]) == OLD
        assert datetime.datetime.fromisoformat(row["updatedAt"]) > OLD


# relations and views


def test_relation_route_answers_the_parent_row(api):
    assert api.get("/posts/1/owner").json() == {"id": 1, "name": "Ada"}
    assert api.get("/posts/2/owner?fields=name").json() == {"name": "Grace"}


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/posts/3/owner", "No owner for this post"),  # the key is null
        ("/posts/99/owner", "No owner for this post"),
        ("/owners/99/posts", "No owner with that key"),
    ],
)
def test_relation_routes_are_404_without_a_parent(api, path, message):
    assert_error(api.get(path), 404, "NOT_FOUND", message)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", [1, 4, 5]),
        ("where.counter.gte=10", [1, 5]),
        ("orderby.id=desc&limit=2", [5, 4]),
        ("offset=1", [4, 5]),
        ("cursor=true&limit=2&startAfter=WzRd", [5]),  # after [4]
    ],
)
def test_children_route_filters_orders_and_pages(api, query, expected):
    assert ids(api.get(f"/owners/1/posts?{query}")) == expected
    assert api.get("/owners/3/posts").json() == []


def test_view_has_only_read_routes(api):
    rows = api.get("/postTitles?orderby.id=asc&where.id.lte=2").json()
    assert rows == [{"id": 1, "title": "Dog"}, {"id": 2, "title": "Cat"}]
    for method, query in [
        ("POST", ""),
        ("PUT", "?where.id.eq=1"),
        ("DELETE", "?where.id.eq=1"),
    ]:
        response = api.request(method, f"/postTitles{query}", json={"title": "x"})
        assert_error(response, 405, "READ_ONLY", '"postTitles" is read-only')
    message = "No route for GET /shop/postTitles/1"
    assert_error(api.get("/postTitles/1"), 404, "NOT_FOUND", message)


# errors: the JSON error body, never a 500

ALLOWED = (
    "limit, offset, fields, totalCount, cursor, startAfter, endBefore, "
    "where.<field>.<op>, orderby.<field>"
)
OPERATORS = (
    "eq, neq, gt, gte, lt, lte, like, ilike, in, nin, isNull, contains, contained, "
    "overlaps, any, all"
)
LIMIT = "\"limit\" must be a whole number between 0 and 100, not '{}'"
OFFSET = re.compile("\"offset\" must be a whole number .+, not '.*'")
INVALID = 'Invalid value {} for "{}" in {}: expected {}'
UNKNOWN = "Unknown field \"{}\" in {}. Did you mean '{}'?"
P = "/posts?"
# fmt: off
REQUEST_ERRORS = [  # (path, status, code, message)
    ("/posts/99", 404, "NOT_FOUND", "No post with that key"),
    ("/posts/abc", 400, "INVALID_VALUE",
     INVALID.format("'abc'", "id", "the key", "an integer")),
    ("/postsCategories/post/2/category/1", 404, "NOT_FOUND",
     "No postsCategory with that key"),
    ("/posts/1?nope=1", 400, "UNKNOWN_PARAMETER",
     'Unknown query parameter "nope". Allowed: fields.'),
    (P + "nope=1", 400, "UNKNOWN_PARAMETER",
     f'Unknown query parameter "nope". Allowed: {ALLOWED}.'),
    (P + "where.id=1", 400, "UNKNOWN_PARAMETER",
     'Query parameter "where.id" must look like "where.<field>.<operator>"'),
    (P + "where.or=(titel.eq=x|id.eq=1)", 400, "UNKNOWN_FIELD",
     UNKNOWN.format("titel", "where", "title")),
    (P + "orderby.titel=asc", 400, "UNKNOWN_FIELD",
     UNKNOWN.format("titel", "orderby", "title")),
    (P + "fields=id,prise", 400, "UNKNOWN_FIELD",
     UNKNOWN.format("prise", "fields", "price")),
    (P + "where.title.eqq=x", 400, "UNKNOWN_OPERATOR",
     f'Unknown operator "eqq" for "title". Operators: {OPERATORS}.'
     " Did you mean 'eq'?"),
    (P + "where.counter.eq=x", 400, "INVALID_VALUE",
     INVALID.format("'x'", "counter", "where", "an integer")),
    (P + "where.price.gt=abc", 400, "INVALID_VALUE",
     INVALID.format("'abc'", "price", "where", "a decimal number")),
    (P + "where.published.eq=yes", 400, "INVALID_VALUE",
     INVALID.format("'yes'", "published", "where", "true or false")),
    (P + "where.createdAt.lt=nope", 400, "INVALID_VALUE",
     INVALID.format("'nope'", "createdAt", "where", "a date-time (ISO 8601)")),
    (P + "where.id.in=1,x", 400, "INVALID_VALUE",
     INVALID.format("'x'", "id", "where.in", "an integer")),
    (P + "where.title.eq=" + "x" * 21, 400, "VALUE_TOO_LONG",
     'Value for "title" is longer than 20 characters'),
    (P + "where.or=(title.eq=Dog", 400, "INVALID_VALUE",
     'where.or must look like "(field.op=value|field.op=value)"'),
    (P + "orderby.title=up", 400, "INVALID_VALUE",
     "orderby.title must be \"asc\" or \"desc\", not 'up'"),
    (P + "limit=-1", 400, "INVALID_LIMIT", LIMIT.format("-1")),
    (P + "limit=ten", 400, "INVALID_LIMIT", LIMIT.format("ten")),
    (P + "offset=-1", 400, "INVALID_LIMIT", OFFSET),
    (P + "limit=1&limit=2", 400, "INVALID_VALUE",
     'Query parameter "limit" is given 2 times'),
    (P + "totalCount=yes", 400, "INVALID_VALUE", '"totalCount" must be true or false'),
    (P + "startAfter=WzFd&cursor=false", 400, "INVALID_VALUE",
     "startAfter and endBefore cannot be used with cursor=false"),
    (P + "cursor=true&startAfter=%25%25", 400, "INVALID_VALUE", "Invalid cursor"),
    (P + "cursor=true&startAfter=WzFd&orderby.title=asc", 400, "INVALID_VALUE",
     "The cursor does not match this ordering"),
]
LINK = {"postId": 1, "categoryId": 1}
NOT_OBJECT = "The body must be a JSON object"
MISSING_TITLE = 'Missing value for required field "title"'
TOO_LONG = 'Value for "title" is longer than 20 characters'
BODY_ERRORS = [  # (method, path, body, code, message); 409 for CONSTRAINT_VIOLATION
    ("POST", "/posts", {"titel": "x"}, "UNKNOWN_FIELD",
     UNKNOWN.format("titel", "body", "title")),
    ("PUT", P + "where.id.eq=1", {"nope": 1}, "UNKNOWN_FIELD",
     'Unknown field "nope" in body.'),
    ("POST", "/posts", {"title": 5}, "INVALID_VALUE",
     INVALID.format(5, "title", "body", "a string")),
    ("POST", "/posts", {"title": "x", "counter": "3"}, "INVALID_VALUE",
     INVALID.format("'3'", "counter", "body", "an integer")),
    ("POST", "/posts", {"title": "x", "published": 1}, "INVALID_VALUE",
     INVALID.format(1, "published", "body", "true or false")),
    ("POST", "/posts", {"title": "x", "price": True}, "INVALID_VALUE",
     INVALID.format(True, "price", "body", "a decimal number")),
    ("PATCH", "/posts/1", {"ownerId": "1"}, "INVALID_VALUE",
     INVALID.format("'1'", "ownerId", "body", "an integer")),
    ("POST", "/posts", {"counter": 1}, "NOT_NULL_VIOLATION", MISSING_TITLE),
    ("PUT", "/posts/1", {"title": None}, "NOT_NULL_VIOLATION", MISSING_TITLE),
    ("PATCH", "/posts/1", {"title": None}, "NOT_NULL_VIOLATION",
     re.compile("Missing required value: .+")),
    ("POST", "/posts", {"title": "x" * 21}, "VALUE_TOO_LONG", TOO_LONG),
    ("PATCH", "/posts/1", {"title": "x" * 21}, "VALUE_TOO_LONG", TOO_LONG),
    ("POST", "/posts", "Dog", "INVALID_BODY", NOT_OBJECT),
    ("POST", "/posts", [{"title": "x"}, 1], "INVALID_BODY", NOT_OBJECT),
    ("PUT", "/posts/1", {"id": 2, "title": "x"}, "PRIMARY_KEY_MISMATCH",
     '"id" in the body differs from the key in the path'),
    ("POST", "/owners", {"name": "Ada"}, "CONSTRAINT_VIOLATION", ANY),  # unique
    ("POST", "/posts", {"title": "x", "ownerId": 99}, "CONSTRAINT_VIOLATION", ANY),
    ("PATCH", "/posts/2", {"ownerId": 99}, "CONSTRAINT_VIOLATION", ANY),
    ("POST", "/postsCategories", LINK, "CONSTRAINT_VIOLATION", ANY),  # same key
    ("DELETE", "/owners/1", None, "CONSTRAINT_VIOLATION", ANY),  # still referenced
]
JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
NOT_JSON = "The body must be JSON (Content-Type: application/json)"
MALFORMED = re.compile("Malformed JSON body: .+")
RAW_ERRORS = [  # (content, headers, status, code, message)
    (b'{"title": "x",', JSON, 400, "INVALID_BODY", MALFORMED),
    (b"[" * 2000 + b"]" * 2000, JSON, 400, "INVALID_BODY", MALFORMED),  # too deep
    (b"", JSON, 400, "INVALID_BODY", MALFORMED),
    (b'{"title": "\xff"}', JSON, 400, "INVALID_BODY", MALFORMED),
    (b'{"title": "x"}', {"Content-Type": "text/plain"}, 415, "UNSUPPORTED_MEDIA_TYPE",
     NOT_JSON),
    (b"title=x", FORM, 415, "UNSUPPORTED_MEDIA_TYPE", NOT_JSON),
    (b'{"title": "x"}', {}, 415, "UNSUPPORTED_MEDIA_TYPE", NOT_JSON),
]
# fmt: on


@pytest.mark.parametrize(("path", "status", "code", "message"), REQUEST_ERRORS)
def test_bad_path_or_query_is_a_client_error(api, path, status, code, message):
    assert_error(api.get(path), status, code, message)


@pytest.mark.parametrize(("method", "path", "body", "code", "message"), BODY_ERRORS)
def test_bad_body_is_a_client_error(api, method, path, body, code, message):
    before = api.get("/posts?limit=100").json()
    kwargs = {} if body is None else {"json": body}
    status = 409 if code == "CONSTRAINT_VIOLATION" else 400
    assert_error(api.request(method, path, **kwargs), status, code, message)
    assert api.get("/posts?limit=100").json() == before


@pytest.mark.parametrize(
    ("content", "headers", "status", "code", "message"), RAW_ERRORS
)
def test_body_that_is_not_json_is_refused(api, content, headers, status, code, message):
    response = api.post("/posts", content=content, headers=headers)
    assert_error(response, status, code, message)


def test_body_over_the_upload_limit_is_a_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post("/posts", json={"title": "x", "pad": "x" * 2000})
    assert_error(response, 413, "PAYLOAD_TOO_LARGE", "The body is too large")
    assert api.post("/posts", json={"title": "x"}).status_code == 201


# fmt: off
ODD_QUERIES = [
    "where.or=()", "where.or=(|)", "where.or=(id.eq=1|(id.eq=2))", "where.id.in=",
    "where.id.in=1,,2", "where..eq=1", "where.id.eq.x=1", "orderby.=asc", "fields=",
    "fields=,", "where.counter.like=4%25", "where.createdAt.ilike=2%25",
    "where.title.contains=a", "where.title.any=a", "where.price.gt=1e400",
    "where.price.eq=NaN", "where.price.eq=-Infinity",
    "where.id.eq=99999999999999999999",
    "where.title.eq=%F0%9F%90%B6", "where.title.eq=%FF", "where.title.isNull=1",
    "cursor=true&startAfter=e30", "cursor=true&startAfter=WyJ4Il0",
    "cursor=true&startAfter=WzFd&endBefore=WzFd", "cursor=true&offset=1",
    "cursor=true&orderby.price=asc&startAfter=W251bGwsMl0",  # [null, 2]
    "where.createdAt.gt=2020-13-01T00:00:00", "offset=9223372036854775807",
    "limit=%D9%A3",  # an Arabic-Indic digit three
]
ODD_REQUESTS = [  # (method, path, keyword arguments of the request)
    *(("GET", f"/posts?{query}", {}) for query in ODD_QUERIES),
    ("GET", "/posts/99999999999999999999", {}),
    ("GET", "/postsCategories/post/1", {}),
    ("GET", "/postTitles?cursor=true&startAfter=W10", {}),
    ("GET", "/postsCategories/post/x/category/1", {}),
    *(("POST", "/posts", {"json": {"title": "x", **extra}}) for extra in [
        {"price": "1e400"}, {"price": "1.239"}, {"price": 1e300}, {"counter": 2**31},
        {"counter": 1.5}, {"id": -1}, {"createdAt": 5}, {"title": "a\u0000b"},
    ]),
    ("POST", "/posts", {"content": b'{"title": "x", "price": 1e400}', "headers": JSON}),
    ("POST", "/posts", {"content": b"null", "headers": JSON}),
    ("POST", "/posts", {"json": [[]]}), ("PATCH", "/posts/1", {"json": [1]}),
    ("POST", "/posts?nope=1", {"json": {}}), ("POST", "/posts/1", {"json": {}}),
    ("PATCH", "/posts", {"json": {}}), ("PUT", "/posts/abc", {"json": {"title": "x"}}),
    ("PUT", "/posts/1", {"json": {"id": None, "title": "x"}}),
    ("PUT", "/posts?where.id.eq=1&limit=1", {"json": {"title": "x"}}),
    ("DELETE", "/posts?orderby.id=asc", {}),
    ("DELETE", "/posts/1", {}),  # still referenced by posts_categories
    ("TRACE", "/posts", {}), ("HEAD", "/posts", {}),
]
REGRESSIONS = [  # each was a 500 once
    ("OPTIONS", "/posts", {}),
    ("GET", "/posts?limit=%C2%B2", {}),
    ("GET", "/posts?offset=1000000000000000000000", {}),
    ("POST", "/posts", {"json": {"title": "x", "counter": 2**63}}),
    ("PUT", "/posts/99999999999999999999", {"json": {"title": "x"}}),
    ("GET", "/posts?where.title.eq=a%00b", {}),
]
# fmt: on


def assert_not_a_server_error(response) -> None:
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code >= 400 and response.request.method != "HEAD":
        assert response.json()["statusCode"] == response.status_code


def test_odd_inputs_never_cause_a_server_error(api):
    for method, path, kwargs in ODD_REQUESTS:
        assert_not_a_server_error(api.request(method, path, **kwargs))


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    REGRESSIONS,
    ids=[f"{m} {p[:40]}" for m, p, _ in REGRESSIONS],
)
def test_inputs_that_once_caused_a_server_error_are_client_errors(
    api, method, path, kwargs
):
    response = api.request(method, path, **kwargs)
    assert_not_a_server_error(response)
    if method != "OPTIONS":
        assert response.status_code == 400, response.text
