"""The generated REST API under hostile or unusual input, on every engine.

Every bad input is a 4xx with the JSON error of DESIGN.md, never a 500: a
database error that is the client's doing (a value the engine refuses, a
where too large for it) is 400, a statement timeout 504. Each test runs
through Django's request cycle and through the ASGI application, whose fast
routes serve reads and inserts themselves; both answer alike. SQLite,
PostgreSQL and MariaDB each run every test that applies to them.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from http import HTTPStatus

import pytest
from django.db import connections

from platform_core.db.connections import alias_for
from platform_core.entities.where import (
    MAX_LIST_VALUES,
    MAX_OR_CONDITIONS,
    MAX_WHERE_VALUES,
)
from platform_core.testing import asgi_client, platform_client

KEY = {
    "sqlite": "INTEGER PRIMARY KEY",
    "postgresql": "SERIAL PRIMARY KEY",
    "mariadb": "INTEGER AUTO_INCREMENT PRIMARY KEY",
}
# A column whose character set cannot hold every character (MariaDB only).
NARROW = {"mariadb": "CHARACTER SET latin1"}
SCHEMA = """
CREATE TABLE owners (id {key}, name VARCHAR(50) NOT NULL);
CREATE TABLE posts (
    id {key}, title VARCHAR(20) NOT NULL, counter INTEGER NOT NULL DEFAULT 0,
    legacy VARCHAR(20) {narrow} NULL, owner_id INTEGER,
    FOREIGN KEY (owner_id) REFERENCES owners (id)
);
CREATE TABLE tags (
    post_id INTEGER NOT NULL, name VARCHAR(20) NOT NULL, PRIMARY KEY (post_id, name)
);
"""
EXTRA = {
    "postgresql": """
CREATE TYPE mood AS ENUM ('sad', 'ok');
CREATE TABLE moods (id SERIAL PRIMARY KEY, mood mood);
""",
}
SEEDS = {
    "owners": [{"name": "Ada"}, {"name": "Grace"}],
    "posts": [
        {"title": "Dog", "counter": 10, "ownerId": 1},
        {"title": "back\\slash", "counter": 40, "ownerId": 1},
        {"title": "Fish", "counter": 25},
    ],
}


def create_tables(spec, engine: str) -> None:
    connection = connections[alias_for(spec)]
    script = SCHEMA.format(key=KEY[engine], narrow=NARROW.get(engine, ""))
    with connection.cursor() as cursor:
        for statement in connection.ops.prepare_sql_script(
            script + EXTRA.get(engine, "")
        ):
            cursor.execute(statement)


def seed(client) -> None:
    for plural, rows in SEEDS.items():
        assert client.post(f"/{plural}", json=rows).status_code == 201


@pytest.fixture(params=["django", "asgi"])
def api(request, db_service, engine):
    """An httpx client on /shop, with the tables created and seeded."""
    create_tables(db_service, engine)
    make_client = platform_client if request.param == "django" else asgi_client
    with make_client(base_url="http://testserver/shop") as client:
        seed(client)
        yield client


def assert_error(response, status: int, code: str, message: str) -> None:
    """Check the status and the whole JSON error body."""
    assert response.status_code == status, response.text
    assert response.json() == {
        "statusCode": status,
        "code": code,
        "error": HTTPStatus(status).phrase,
        "message": message,
    }


def titles(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [row["title"] for row in response.json()]


# 1. database errors that are the client's doing: 400, and a timeout 504

LIKE_ESCAPE = "Invalid value: LIKE pattern must not end with escape character"


@pytest.mark.parametrize("op", ["like", "ilike"])
def test_a_like_pattern_ending_in_a_backslash_is_a_400_on_postgresql(api, engine, op):
    paths = [
        f"/posts?where.title.{op}=%5C",
        f"/posts?where.title.{op}=back%5C",
        f"/owners/1/posts?where.title.{op}=%5C&totalCount=true",  # relation route
    ]
    for path in paths:
        response = api.get(path)
        if engine == "postgresql":
            assert_error(response, 400, "INVALID_VALUE", LIKE_ESCAPE)
        else:  # a trailing backslash is the character itself
            assert titles(response) == []
    assert titles(api.get(f"/posts?where.title.{op}=back%25")) == ["back\\slash"]


def test_an_unknown_enum_value_in_a_filter_is_a_400(api, engine):
    if engine != "postgresql":
        pytest.skip("enum types are PostgreSQL's")
    assert api.post("/moods", json={"mood": "ok"}).status_code == 201
    assert [r["mood"] for r in api.get("/moods?where.mood.eq=ok").json()] == ["ok"]
    response = api.get("/moods?where.mood.eq=bogus")
    assert_error(
        response,
        400,
        "INVALID_VALUE",
        'Invalid value: invalid input value for enum mood: "bogus"',
    )
    assert_error(
        api.post("/moods", json={"mood": "bogus"}),
        400,
        "INVALID_VALUE",
        'Invalid value: invalid input value for enum mood: "bogus"',
    )


def test_a_value_the_column_charset_cannot_hold_is_a_400(api, engine):
    dog = "\N{DOG FACE}"
    insert = api.post("/posts", json={"title": "x", "legacy": dog})
    where = api.get(f"/posts?where.legacy.eq={dog}")
    if engine != "mariadb":  # every column holds any character
        assert insert.status_code == 201, insert.text
        assert titles(where) == ["x"]
        return
    assert insert.status_code == 400, insert.text
    assert insert.json()["code"] == "INVALID_VALUE"
    assert insert.json()["message"].startswith(
        "Invalid value: Incorrect string value: '\\xF0\\x9F\\x90\\xB6' for column "
    )
    assert_error(
        where,
        400,
        "INVALID_VALUE",
        "Invalid value: Illegal mix of collations (latin1_swedish_ci,IMPLICIT) and "
        "(utf8mb4_general_ci,COERCIBLE) for operation '='",
    )
    assert titles(api.get("/posts?where.title.eq=x")) == []  # nothing written


TIMEOUT = "The database did not answer in time; narrow the query or retry later"


@pytest.fixture(params=["django", "asgi"])
def impatient_api(request, db_service, engine):
    """A client on /shop whose connections have a statement timeout of 0.3 s.

    The tables are created, seeded and read once (the routes are built)
    before the timeout is set; every connection opened after has it.
    """
    if engine == "sqlite":
        pytest.skip("SQLite has no statement timeout")
    create_tables(db_service, engine)
    with platform_client(base_url="http://testserver/shop") as client:
        seed(client)
    alias = alias_for(db_service)
    options = connections.settings[alias].setdefault("OPTIONS", {})
    if engine == "postgresql":
        options["options"] = "-c statement_timeout=300"
    else:
        options["init_command"] = (
            "SET sql_mode='STRICT_TRANS_TABLES', max_statement_time=0.3"
        )
    connections[alias].close()
    make_client = platform_client if request.param == "django" else asgi_client
    with make_client(base_url="http://testserver/shop") as client:
        yield client


@contextlib.contextmanager
def posts_locked(spec, engine: str) -> Iterator[None]:
    """Hold an exclusive lock on the posts table from another connection."""
    settings = connections.settings[alias_for(spec)]
    if engine == "postgresql":
        import psycopg

        holder = psycopg.connect(
            host=settings["HOST"],
            port=settings["PORT"],
            user=settings["USER"],
            dbname=settings["NAME"],
        )
        holder.execute("LOCK TABLE posts IN ACCESS EXCLUSIVE MODE")
    else:
        import MySQLdb

        holder = MySQLdb.connect(
            host=settings["HOST"],
            port=int(settings["PORT"]),
            user=settings["USER"],
            password=settings["PASSWORD"],
            database=settings["NAME"],
        )
        holder.cursor().execute("LOCK TABLES posts WRITE")
    try:
        yield
    finally:
        holder.close()  # ends the transaction, and its lock


@pytest.mark.parametrize(
    "path",
    [
        "/posts",
        "/posts/1",
        "/posts?limit=0&totalCount=true",  # the count alone
        "/owners/1/posts",
        "/posts/1/owner",
    ],
)
def test_a_statement_timeout_is_a_504(impatient_api, db_service, engine, path):
    with posts_locked(db_service, engine):
        response = impatient_api.get(path)
    assert_error(response, 504, "GATEWAY_TIMEOUT", TIMEOUT)
    assert impatient_api.get(path).status_code == 200  # answers again


# 2. caps on where.or and in / nin lists: a 400 naming the cap, for any count

OR_CAP = f'Too many "or" conditions: at most {MAX_OR_CONDITIONS} are allowed'


@pytest.mark.parametrize("count", [MAX_OR_CONDITIONS, MAX_OR_CONDITIONS + 1, 1500])
def test_where_or_has_a_cap_and_no_count_is_a_server_error(api, count):
    conditions = "|".join(f"counter.eq={n}" for n in range(count))
    response = api.get(f"/posts?where.or=({conditions})&orderby.id=asc")
    if count <= MAX_OR_CONDITIONS:
        assert titles(response) == ["Dog", "back\\slash", "Fish"]
    else:
        assert_error(response, 400, "QUERY_TOO_LARGE", OR_CAP)


@pytest.mark.parametrize("op", ["in", "nin"])
@pytest.mark.parametrize("count", [MAX_LIST_VALUES, MAX_LIST_VALUES + 1, 30_000])
def test_in_lists_have_a_cap_and_no_count_is_a_server_error(api, op, count):
    # 30000 values: about as many as a URL of 64 KiB (httpx's limit) holds
    values = ",".join(str(n) if count <= MAX_LIST_VALUES else "1" for n in range(count))
    response = api.get(f"/posts?where.counter.{op}={values}&orderby.id=asc")
    if count <= MAX_LIST_VALUES:
        expected = ["Dog", "back\\slash", "Fish"] if op == "in" else []
        assert titles(response) == expected
    else:
        message = (
            f'"counter.{op}" has {count} values; at most {MAX_LIST_VALUES} are allowed'
        )
        assert_error(response, 400, "QUERY_TOO_LARGE", message)


def test_the_values_of_all_lists_of_a_where_are_capped_together(api):
    values = ",".join(str(n) for n in range(MAX_LIST_VALUES))
    branches = "|".join(
        [f"counter.in={values}"] * (MAX_WHERE_VALUES // MAX_LIST_VALUES + 1)
    )
    assert_error(
        api.get(f"/posts?where.or=({branches})"),
        400,
        "QUERY_TOO_LARGE",
        f"Too many values in the where lists: at most {MAX_WHERE_VALUES} in all "
        "are allowed",
    )


# 3. and 4. inserts: no empty bulk insert; Location names the row


@pytest.mark.parametrize("query", ["", "?fields=title"])
def test_an_empty_bulk_insert_is_a_400(api, query):
    assert_error(
        api.post(f"/posts{query}", json=[]),
        400,
        "INVALID_BODY",
        "The body is an empty array; give at least one row",
    )


@pytest.mark.parametrize(
    ("path", "body", "fields", "answer"),
    [
        ("/posts", {"title": "New"}, "title", {"title": "New"}),
        ("/posts", {"title": "New"}, "counter,title", {"counter": 0, "title": "New"}),
        ("/tags", {"postId": 2, "name": "pets"}, "name", {"name": "pets"}),
    ],
)
def test_location_names_the_row_whatever_fields_selects(
    api, path, body, fields, answer
):
    response = api.post(f"{path}?fields={fields}", json=body)
    assert response.status_code == 201, response.text
    assert response.json() == answer
    location = response.headers["location"]
    assert location != f"/shop{path}"
    row = api.get(location.removeprefix("/shop"))
    assert row.status_code == 200, row.text
    assert {k: row.json()[k] for k in body} == body


# 5. a query that is not UTF-8


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("where.title.eq=%FF", "where.title.eq"),
        ("where.title.like=Do%C3", "where.title.like"),
        ("fields=%FFtitle", "fields"),
        ("limit=1&where.or=(title.eq%3D%FF)", "where.or"),
    ],
)
def test_a_query_that_is_not_utf8_is_a_400(api, query, key):
    message = (
        f'Query parameter "{key}" is not valid UTF-8; '
        "percent-encode the UTF-8 bytes of the text"
    )
    for path in ("/posts", "/posts/1", "/owners/1/posts", "/posts/1/owner"):
        assert_error(api.get(f"{path}?{query}"), 400, "INVALID_VALUE", message)
    assert_error(
        api.post(f"/posts?{query}", json={"title": "x"}), 400, "INVALID_VALUE", message
    )
    assert titles(api.get("/posts?where.title.eq=x")) == []


def test_utf8_text_in_a_query_is_filtered_on_as_given(api):
    assert api.post("/posts", json={"title": "\N{DOG FACE} \ufffd"}).status_code == 201
    assert titles(api.get("/posts?where.title.eq=%F0%9F%90%B6%20%EF%BF%BD")) == [
        "\N{DOG FACE} \ufffd"
    ]


def test_too_many_query_parameters_are_a_400(api):
    query = "&".join(f"where.title.eq={n}" for n in range(1001))
    assert_error(api.get(f"/posts?{query}"), 400, "BAD_REQUEST", "Bad request")


# 6. Platformatic clients: cursors without cursor=true, fields as an array


def test_start_after_alone_pages_as_platformatic_does(api):
    first = api.get("/posts?cursor=true&limit=2")
    assert titles(first) == ["Dog", "back\\slash"]
    after = first.headers["x-start-after"]
    second = api.get(f"/posts?limit=2&startAfter={after}")
    assert titles(second) == ["Fish"]
    assert "x-start-after" in second.headers  # the cursor headers come back
    before = second.headers["x-end-before"]
    assert titles(api.get(f"/posts?limit=2&endBefore={before}")) == [
        "Dog",
        "back\\slash",
    ]


def test_cursors_stay_refused_where_they_make_no_sense(api):
    assert_error(
        api.get("/posts?startAfter=WzFd&cursor=false"),
        400,
        "INVALID_VALUE",
        "startAfter and endBefore cannot be used with cursor=false",
    )
    assert_error(
        api.get("/posts?startAfter=WzFd&offset=1"),
        400,
        "INVALID_VALUE",
        "offset cannot be combined with cursor pagination "
        "(cursor=true, startAfter or endBefore)",
    )
    assert_error(api.get("/posts?startAfter="), 400, "INVALID_VALUE", "Invalid cursor")


def test_fields_may_be_repeated_as_platformatic_clients_send_it(api):
    query = "fields=id&fields=title"
    assert api.get(f"/posts?{query}&limit=1").json() == [{"id": 1, "title": "Dog"}]
    assert api.get(f"/posts/1?{query}").json() == {"id": 1, "title": "Dog"}
    assert api.get("/posts/1/owner?fields=id&fields=name").json() == {
        "id": 1,
        "name": "Ada",
    }
    created = api.post(f"/posts?{query}", json={"title": "New"})
    assert created.status_code == 201, created.text
    assert created.json() == {"id": 4, "title": "New"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=1&limit=2", 'Query parameter "limit" is given 2 times'),
        ("orderby.id=asc&orderby.id=desc",
         'Query parameter "orderby.id" is given 2 times'),
        ("where.id.eq=1&where.id.eq=2",
         'Query parameter "where.id.eq" is given 2 times'),
        ("where.or=(id.eq=1)&where.or=(id.eq=2)",
         'Query parameter "where.or" is given 2 times; put every condition in '
         "one where.or=(a|b|...)"),
        ("startAfter=WzFd&startAfter=WzJd",
         'Query parameter "startAfter" is given 2 times'),
        ("totalCount=true&totalCount=false",
         'Query parameter "totalCount" is given 2 times'),
    ],
)  # fmt: skip
def test_repeats_with_no_meaning_stay_refused(api, query, message):
    assert_error(api.get(f"/posts?{query}"), 400, "INVALID_VALUE", message)


# 7. writes can't be forged cross-site with a session cookie

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
TEXT = {"Content-Type": "text/plain"}
NOT_JSON = "The body must be JSON (Content-Type: application/json)"
RULES = """
[authorization]
anonymousRole = "anonymous"

[[authorization.rules]]
role = "editor"
entity = "post"
find = true
save = true
delete = true
"""
WRITES = [  # (method, path, body): every write a browser form could aim at
    ("POST", "/posts", b'{"title": "forged"}'),
    ("POST", "/posts", b'[{"title": "forged"}]'),
    ("PUT", "/posts/1", b'{"title": "forged"}'),
    ("PATCH", "/posts/1", b'{"title": "forged"}'),
    ("PUT", "/posts?where.id.eq=1", b'{"title": "forged"}'),
    ("DELETE", "/posts/1", b"title=forged"),
    ("DELETE", "/posts?where.id.eq=1", b"title=forged"),
]


@pytest.fixture
def editor_session(db):
    """A Django user in group "editor", logged in; returns its cookie header."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Group, User
    from django.contrib.sessions.backends.db import SessionStore

    user = User.objects.create_user(f"editor-{uuid.uuid4().hex[:8]}")
    user.groups.add(Group.objects.get_or_create(name="editor")[0])
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return {"Cookie": f"sessionid={session.session_key}"}


@pytest.fixture
def guarded(tmp_path, django_db_blocker, editor_session):
    """A client on a shop with rules (on SQLite: no engine is involved)."""
    from tests.databases import fresh_database
    from tests.integration.conftest import configured_db_service

    statements = [
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, title VARCHAR(20) NOT NULL)",
        "INSERT INTO posts (id, title) VALUES (1, 'Dog'), (2, 'Cat')",
    ]
    with (
        django_db_blocker.unblock(),
        fresh_database("sqlite", tmp_path) as url,
        configured_db_service(tmp_path, url, RULES, statements=statements),
        platform_client(base_url="http://testserver/shop") as client,
    ):
        client.headers.update(editor_session)
        yield client


@pytest.mark.parametrize("headers", [FORM, TEXT, {}], ids=["form", "text", "none"])
@pytest.mark.parametrize(
    ("method", "path", "body"), WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES]
)
def test_a_cookie_write_that_is_not_json_is_a_415(guarded, headers, method, path, body):
    before = guarded.get("/posts").json()
    assert len(before) == 2  # the session's role may read
    response = guarded.request(method, path, content=body, headers=headers)
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE", NOT_JSON)
    assert guarded.get("/posts").json() == before


def test_a_cookie_delete_cannot_be_sent_cross_site(guarded):
    # A bodiless DELETE needs fetch(), so a CORS preflight: the platform gives
    # no Access-Control-Allow-Origin, and the browser sends nothing.
    preflight = guarded.options(
        "/posts/1",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "DELETE",
        },
    )
    assert not any(h.startswith("access-control-") for h in preflight.headers)
    # The same-origin client's JSON writes and bodiless DELETE work.
    assert guarded.patch("/posts/1", json={"title": "Dog2"}).status_code == 200
    assert guarded.delete("/posts/2").json() == {"id": 2, "title": "Cat"}
