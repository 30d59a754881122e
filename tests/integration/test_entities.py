"""The entities API of a db service on SQLite, PostgreSQL and MariaDB.

Reads share one seeded database per engine; each test that writes gets a fresh one.
"""

from __future__ import annotations

import contextlib
import datetime
import re
from decimal import Decimal

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from platform_core.db.connections import alias_for
from platform_core.entities import entities
from platform_core.events import events
from platform_core.exceptions import APIError
from platform_core.testing import register_temporarily
from tests.databases import ENGINES, connection_alias, fresh_database
from tests.integration.conftest import make_db_service

# One schema per engine; only autoincrement keys, timestamps and FKs differ.
SCHEMAS = {
    "sqlite": """
        CREATE TABLE owners (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL UNIQUE);
        CREATE TABLE posts (
            id INTEGER PRIMARY KEY, title VARCHAR(20) NOT NULL,
            counter INTEGER NOT NULL DEFAULT 0, price DECIMAL(8, 2), published BOOLEAN,
            owner_id INTEGER REFERENCES owners(id),
            created_at TIMESTAMP NULL, updated_at TIMESTAMP NULL
        );
        CREATE VIEW post_titles AS SELECT id, title FROM posts;
    """,
    "postgresql": """
        CREATE TABLE owners (id SERIAL PRIMARY KEY, name VARCHAR(50) NOT NULL UNIQUE);
        CREATE TABLE posts (
            id SERIAL PRIMARY KEY, title VARCHAR(20) NOT NULL,
            counter INTEGER NOT NULL DEFAULT 0, price DECIMAL(8, 2), published BOOLEAN,
            owner_id INTEGER REFERENCES owners(id),
            created_at TIMESTAMP WITH TIME ZONE, updated_at TIMESTAMP WITH TIME ZONE
        );
        CREATE VIEW post_titles AS SELECT id, title FROM posts;
        CREATE TABLE articles (
            id SERIAL PRIMARY KEY, tags TEXT[], created_at TIMESTAMP
        );
    """,
    "mariadb": """
        CREATE TABLE owners (
            id INTEGER AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) NOT NULL UNIQUE
        );
        CREATE TABLE posts (
            id INTEGER AUTO_INCREMENT PRIMARY KEY, title VARCHAR(20) NOT NULL,
            counter INTEGER NOT NULL DEFAULT 0, price DECIMAL(8, 2), published BOOLEAN,
            owner_id INTEGER, created_at TIMESTAMP NULL, updated_at TIMESTAMP NULL,
            FOREIGN KEY (owner_id) REFERENCES owners(id)
        );
        CREATE VIEW post_titles AS SELECT id, title FROM posts;
    """,
}
OWNERS = [{"name": "Ada"}, {"name": "Grace"}]
POSTS = [  # ids 1-4
    {"title": "Dog", "counter": 10, "price": "9.50", "published": True, "ownerId": 1},
    {"title": "Cat", "counter": 40, "published": False, "ownerId": 2},
    {"title": "dog house", "counter": 40, "price": "120.00"},
    {"title": "Bird", "price": "3.25", "published": True, "ownerId": 1},
]
ARTICLES = [{"tags": ["red", "blue"]}, {"tags": ["red"]}, {"tags": ["green"]}]
OLD, OLD_SQL = datetime.datetime(2001, 1, 1, tzinfo=datetime.UTC), "2001-01-01 00:00:00"


def create_and_seed(spec, engine):
    """Create the tables with raw SQL and seed them through the entities API."""
    connection = connections[alias_for(spec)]
    with connection.cursor() as cursor:
        for statement in connection.ops.prepare_sql_script(SCHEMAS[engine]):
            cursor.execute(statement)
    shop = entities(spec.id)
    shop["owner"].insert(OWNERS)
    shop["post"].insert(POSTS)
    if engine == "postgresql":
        shop["article"].insert(ARTICLES)
    return shop


@pytest.fixture(scope="module", params=ENGINES)
def seeded(request, tmp_path_factory, django_db_blocker):
    """Entities of one seeded database per engine, shared by read-only tests."""
    folder = tmp_path_factory.mktemp("seeded")
    with (
        django_db_blocker.unblock(),
        fresh_database(request.param, folder) as url,
    ):
        spec = make_db_service(folder / "seeded", url, "seeded")
        with connection_alias(alias_for(spec), url, folder), register_temporarily(spec):
            yield create_and_seed(spec, request.param)


@pytest.fixture
def shop(db_service, engine):
    """Entities of a fresh seeded database, for tests that write."""
    return create_and_seed(db_service, engine)


@pytest.fixture
def received(shop):
    """The (event, row) pairs of every event published after seeding."""
    seen = []

    def handler(event, row):
        seen.append((event, row))

    events.register("*", handler)
    yield seen
    events.unregister("*", handler)


@contextlib.contextmanager
def api_error(status, code, message):
    """Expect an APIError; ``message`` is exact text or a pattern (engine wording)."""
    if not isinstance(message, re.Pattern):
        message = re.compile("^" + re.escape(message) + "$")
    with pytest.raises(APIError, match=message) as info:
        yield info
    assert (info.value.status, info.value.code) == (status, code)


def xfail_on(request, engine, bad_engine, reason):
    if engine == bad_engine:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


def ids(rows):
    return [row["id"] for row in rows]


def without_timestamps(row):
    return {k: v for k, v in row.items() if k not in ("createdAt", "updatedAt")}


# find

# fmt: off
FIND_CASES = [  # (where, from_text, expected ids)
    ({"title": {"eq": "Dog"}}, False, [1]),
    ({"counter": {"eq": 40}}, False, [2, 3]),
    ({"price": {"eq": "9.50"}}, False, [1]),
    ({"published": {"eq": True}}, False, [1, 4]),
    ({"price": {"eq": None}}, False, [2]),
    ({"counter": {"neq": 40}}, False, [1, 4]),
    ({"price": {"neq": "9.50"}}, False, [3, 4]),  # NULL price excluded
    ({"ownerId": {"neq": 1}}, False, [2]),  # NULL owner excluded
    ({"price": {"neq": None}}, False, [1, 3, 4]),
    ({"counter": {"gt": 10}}, False, [2, 3]),
    ({"counter": {"gte": 10}}, False, [1, 2, 3]),
    ({"price": {"lt": 9.5}}, False, [4]),
    ({"price": {"lte": "9.50"}}, False, [1, 4]),
    ({"title": {"like": "%o%"}}, False, [1, 3]),
    ({"title": {"ilike": "DOG%"}}, False, [1, 3]),
    ({"id": {"in": [1, 3]}}, False, [1, 3]),
    ({"counter": {"nin": [0, 10]}}, False, [2, 3]),
    ({"ownerId": {"nin": [1]}}, False, [2]),  # NULL owner excluded
    ({"ownerId": {"isNull": True}}, False, [3]),
    ({"ownerId": {"isNull": False}}, False, [1, 2, 4]),
    ({"counter": {"eq": "40"}}, True, [2, 3]),
    ({"published": {"eq": "false"}}, True, [2]),
    ({"price": {"eq": "null"}}, True, [2]),
    ({"price": {"neq": "null"}}, True, [1, 3, 4]),
    ({"counter": {"neq": "10"}}, True, [2, 3, 4]),
    ({"price": {"gt": "9.5"}}, True, [3]),
    ({"id": {"gte": "3"}}, True, [3, 4]),
    ({"counter": {"lt": "10"}}, True, [4]),
    ({"counter": {"lte": "10"}}, True, [1, 4]),
    ({"title": {"like": "%at"}}, True, [2]),
    ({"title": {"ilike": "%HOUSE"}}, True, [3]),
    ({"id": {"in": "1,2"}}, True, [1, 2]),
    ({"ownerId": {"nin": "2"}}, True, [1, 4]),
    ({"price": {"isNull": "true"}}, True, [2]),
    ({"createdAt": {"isNull": "false"}}, True, [1, 2, 3, 4]),
    ({"counter": {"gte": 10}, "ownerId": {"eq": 1}}, False, [1]),
    ({"counter": {"gt": 0, "lt": 40}}, False, [1]),
    ({"or": [{"title": {"eq": "Dog"}}, {"counter": {"gte": 40}}]}, False, [1, 2, 3]),
    ({"or": [{"id": {"eq": "4"}}, {"price": {"isNull": "true"}}]}, True, [2, 4]),
    ({"or": [{"id": {"eq": 1}}, {"id": {"eq": 3}}], "price": {"gt": 100}}, False, [3]),
]


@pytest.mark.parametrize(("where", "from_text", "expected"), FIND_CASES)
def test_find_filters_rows_by_operator(seeded, where, from_text, expected):
    assert ids(seeded["post"].find(where=where, from_text=from_text)) == expected
    assert seeded["post"].count(where=where, from_text=from_text) == len(expected)


ARRAY_CASES = [
    ({"tags": {"contains": ["red"]}}, False, [1, 2]),
    ({"tags": {"contains": "red,blue"}}, True, [1]),
    ({"tags": {"contained": ["red", "blue"]}}, False, [1, 2]),
    ({"tags": {"contained": "red,green"}}, True, [2, 3]),
    ({"tags": {"overlaps": ["blue", "green"]}}, False, [1, 3]),
    ({"tags": {"any": "red"}}, False, [1, 2]),
    ({"tags": {"any": "green"}}, True, [3]),
    ({"tags": {"all": "red"}}, False, [2]),
]
# fmt: on


@pytest.mark.parametrize("seeded", ["postgresql"], indirect=True)
@pytest.mark.parametrize(("where", "from_text", "expected"), ARRAY_CASES)
def test_array_operators_filter_postgresql_arrays(seeded, where, from_text, expected):
    assert ids(seeded["article"].find(where=where, from_text=from_text)) == expected


@pytest.mark.parametrize("seeded", ["postgresql"], indirect=True)
def test_timestamp_without_time_zone_comes_back_aware(seeded):
    assert seeded["article"].get({"id": 1})["createdAt"].tzinfo is not None


def test_find_orders_by_several_fields_and_directions(seeded):
    post = seeded["post"]
    by_counter = [("counter", "desc"), ("title", "asc")]
    assert ids(post.find(order_by=by_counter)) == [2, 3, 1, 4]
    assert ids(post.find(order_by=[("title", "desc")])) == [3, 1, 2, 4]
    published = {"published": {"isNull": False}}
    order_by = [("published", "asc"), ("id", "desc")]
    assert ids(post.find(where=published, order_by=order_by)) == [2, 4, 1]


def test_find_returns_only_the_selected_fields(seeded):
    rows = seeded["post"].find(fields=["title", "id"], where={"id": {"eq": 1}})
    assert rows == [{"id": 1, "title": "Dog"}]


def test_find_returns_typed_values(seeded):
    row = seeded["post"].find(where={"id": {"eq": 1}})[0]
    assert without_timestamps(row) == {
        "id": 1, "title": "Dog", "counter": 10, "price": Decimal("9.50"),
        "published": True, "ownerId": 1,
    }  # fmt: skip
    assert isinstance(row["createdAt"], datetime.datetime)


def test_find_pages_with_limit_and_offset(seeded):
    post = seeded["post"]
    assert ids(post.find(limit=2)) == [1, 2]
    assert ids(post.find(limit=2, offset=1)) == [2, 3]
    assert ids(post.find(offset=3)) == [4]
    assert post.find(limit=0) == []


def test_views_are_readable(seeded):
    assert seeded["postTitle"].find(where={"id": {"lte": 2}}) == [
        {"id": 1, "title": "Dog"},
        {"id": 2, "title": "Cat"},
    ]


# fmt: off
READ_ERRORS = [  # (arguments of find, code, message); all are 400s
    ({"where": {"titel": {"eq": "x"}}}, "UNKNOWN_FIELD",
     "Unknown field \"titel\" in where. Did you mean 'title'?"),
    ({"order_by": [("conter", "asc")]}, "UNKNOWN_FIELD",
     "Unknown field \"conter\" in orderby. Did you mean 'counter'?"),
    ({"fields": ["id", "prise"]}, "UNKNOWN_FIELD",
     "Unknown field \"prise\" in fields. Did you mean 'price'?"),
    ({"where": {"title": {"eqq": "x"}}}, "UNKNOWN_OPERATOR",
     'Unknown operator "eqq" for "title". Operators: eq, neq, gt, gte, lt, lte, '
     "like, ilike, in, nin, isNull, contains, contained, overlaps, any, all. "
     "Did you mean 'eq'?"),
    ({"where": {"title": {"any": "x"}}}, "UNKNOWN_OPERATOR",
     'Operator for arrays used on "title", which is not an array'),
    ({"where": {"counter": {"eq": "x"}}, "from_text": True}, "INVALID_VALUE",
     "Invalid value 'x' for \"counter\" in where: expected an integer"),
    ({"where": {"counter": {"eq": "3"}}}, "INVALID_VALUE",
     "Invalid value '3' for \"counter\" in where: expected an integer"),
    ({"where": {"title": {"eq": 5}}}, "INVALID_VALUE",
     'Invalid value 5 for "title" in where: expected a string'),
    ({"where": {"price": {"gt": "abc"}}}, "INVALID_VALUE",
     "Invalid value 'abc' for \"price\" in where: expected a decimal number"),
    ({"where": {"published": {"eq": "yes"}}, "from_text": True}, "INVALID_VALUE",
     "Invalid value 'yes' for \"published\" in where: expected true or false"),
    ({"where": {"title": {"eq": "x" * 21}}}, "VALUE_TOO_LONG",
     'Value for "title" is longer than 20 characters'),
    ({"where": {"id": {"in": []}}}, "INVALID_VALUE", '"id.in" needs a non-empty list'),
    ({"where": {"id": {"nin": []}}}, "INVALID_VALUE",
     '"id.nin" needs a non-empty list'),
    ({"where": {"price": {"isNull": "yes"}}, "from_text": True}, "INVALID_VALUE",
     '"price.isNull" needs true or false'),
    ({"order_by": [("title", "up")]}, "INVALID_VALUE",
     "orderby.title must be \"asc\" or \"desc\", not 'up'"),
]
# fmt: on


@pytest.mark.parametrize(("arguments", "code", "message"), READ_ERRORS)
def test_bad_find_arguments_are_client_errors(seeded, arguments, code, message):
    with api_error(400, code, message):
        seeded["post"].find(**arguments)


def test_like_on_a_number_field_is_a_client_error(seeded):
    with api_error(
        400, "UNKNOWN_OPERATOR", '"like" works on text fields; "counter" is not one'
    ):
        seeded["post"].find(where={"counter": {"like": "4%"}}, from_text=True)


# writes


def test_insert_returns_stored_rows_with_defaults_and_generated_ids(shop, received):
    before = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1)
    rows = shop["post"].insert([{"title": "Fish"}, {"title": "Frog", "ownerId": 2}])
    assert ids(rows) == [5, 6] and all(type(row["id"]) is int for row in rows)
    empty = {"counter": 0, "price": None, "published": None}
    assert [without_timestamps(row) for row in rows] == [
        {"id": 5, "title": "Fish", "ownerId": None, **empty},
        {"id": 6, "title": "Frog", "ownerId": 2, **empty},
    ]
    assert all(row["createdAt"] == row["updatedAt"] >= before for row in rows)
    assert shop["post"].find(where={"id": {"gte": 5}}) == rows
    assert received == [("shop.post.saved", row) for row in rows]


def test_client_sent_zero_primary_key_is_kept_or_clearly_refused(shop, engine):
    if engine == "mariadb":  # an AUTO_INCREMENT 0 means "generate one" there
        with api_error(400, "INVALID_VALUE", re.compile("^Invalid value: .*0")):
            shop["post"].insert([{"id": 0, "title": "Zero"}])
        return
    (row,) = shop["post"].insert([{"id": 0, "title": "Zero"}], fields=["id"])
    assert row == {"id": 0}


def test_client_sent_timestamps_are_ignored(shop):
    before = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1)
    sent = {"createdAt": "2000-01-01T00:00:00Z", "updatedAt": "2000-01-01T00:00:00Z"}
    (row,) = shop["post"].insert([{"title": "Stamped", **sent}])
    assert row["createdAt"] >= before and row["updatedAt"] >= before
    row, _ = shop["post"].update({"id": row["id"]}, sent, partial=True)
    assert row["createdAt"] >= before and row["updatedAt"] >= before


@pytest.mark.parametrize("partial", [True, False], ids=["patch", "put"])
def test_update_keeps_created_at_and_moves_updated_at(shop, partial):
    with connections[shop.schema.alias].cursor() as cursor:
        cursor.execute(
            "UPDATE posts SET created_at = %s, updated_at = %s", [OLD_SQL] * 2
        )
    row, created = shop["post"].update({"id": 1}, {"title": "Dog"}, partial)
    assert created is False
    assert row["createdAt"] == OLD and row["updatedAt"] > OLD


def test_partial_update_changes_only_the_given_fields(shop, received):
    before = shop["post"].get({"id": 1})
    row, created = shop["post"].update({"id": 1}, {"id": 1, "counter": 11}, True)
    assert created is False
    assert without_timestamps(row) == {**without_timestamps(before), "counter": 11}
    assert shop["post"].get({"id": 1}) == row
    assert received == [("shop.post.saved", row)]


def test_replace_sets_omitted_columns_to_null_or_their_default(shop):
    shop["post"].update({"id": 1}, {"counter": 9}, partial=True)
    row, created = shop["post"].update({"id": 1}, {"title": "Wolf"}, partial=False)
    assert created is False
    assert row["title"] == "Wolf"
    assert (row["price"], row["published"], row["ownerId"]) == (None, None, None)
    assert row["counter"] == 0  # the column's default, not the old 9
    assert shop["post"].get({"id": 1}) == row


def test_replace_with_upsert_creates_the_missing_row_with_the_path_key(shop, received):
    row, created = shop["post"].update(
        {"id": "50"}, {"title": "New"}, partial=False, upsert=True, from_text=True
    )
    assert created is True
    assert (row["id"], row["title"], row["counter"]) == (50, "New", 0)
    assert row["createdAt"] is not None
    assert shop["post"].get({"id": 50}) == row
    assert received == [("shop.post.saved", row)]


def test_update_of_a_missing_row_without_upsert_returns_none(shop, received):
    result = shop["post"].update({"id": 99}, {"title": "X"}, partial=False)
    assert result == (None, False)
    assert shop["post"].count() == 4 and received == []


def test_update_where_changes_every_matching_row_and_returns_them(shop, received):
    rows = shop["post"].update_where(
        {"counter": {"eq": "40"}}, {"price": "1.5"}, from_text=True
    )
    assert ids(rows) == [2, 3]
    assert [row["price"] for row in rows] == [Decimal("1.50")] * 2
    assert ids(shop["post"].find(where={"price": {"eq": "1.50"}})) == [2, 3]
    assert shop["post"].get({"id": 1})["price"] == Decimal("9.50")
    assert received == [("shop.post.saved", row) for row in rows]


def test_delete_by_key_and_by_where_returns_the_deleted_rows(shop, received):
    first = shop["post"].get({"id": 1})
    assert shop["post"].delete(key={"id": 1}) == [first]
    deleted = shop["post"].delete(where={"counter": {"gte": 40}})
    assert ids(deleted) == [2, 3]
    assert ids(shop["post"].find()) == [4]
    assert shop["post"].delete(key={"id": 1}) == []
    assert received == [("shop.post.deleted", row) for row in [first, *deleted]]


def test_client_sent_keys_are_kept_and_find_orders_by_key_by_default(shop):
    shop["post"].update({"id": 1}, {"counter": 1}, partial=True)
    rows = shop["post"].insert([{"id": 100, "title": "A"}, {"id": 50, "title": "B"}])
    assert ids(rows) == [100, 50]
    shop["post"].update({"id": 3}, {"counter": 1}, partial=True)
    assert ids(shop["post"].find()) == [1, 2, 3, 4, 50, 100]


UNIQUE = re.compile(r"^Constraint violation: .*(?i:unique|duplicate)")
FOREIGN_KEY = re.compile(r"^Constraint violation: .*(?i:foreign key)")
NOT_NULL = re.compile(r"^Missing required value: .*title")
READ_ONLY = '"postTitles" is read-only'
TOO_LONG = 'Value for "title" is longer than 20 characters'
NO_TITLE = 'Missing value for required field "title"'
NOT_OBJECT = "The body must be a JSON object"

# fmt: off
WRITE_ERRORS = [  # (write, status, code, message: exact text or pattern)
    (lambda s: s["post"].insert([{"title": "x" * 21}]), 400, "VALUE_TOO_LONG",
     TOO_LONG),
    (lambda s: s["post"].update({"id": 1}, {"title": "x" * 21}, True), 400,
     "VALUE_TOO_LONG", TOO_LONG),
    (lambda s: s["post"].insert([{"counter": 1}]), 400, "NOT_NULL_VIOLATION",
     NO_TITLE),
    (lambda s: s["post"].update({"id": 1}, {"counter": 1}, False), 400,
     "NOT_NULL_VIOLATION", NO_TITLE),
    (lambda s: s["post"].update({"id": 2}, {"title": None}, True), 400,
     "NOT_NULL_VIOLATION", NOT_NULL),
    (lambda s: s["post"].insert([{"title": "a"}, {"title": "b"}, {"counter": 1}]),
     400, "NOT_NULL_VIOLATION", NO_TITLE),
    (lambda s: s["post"].insert([{"titel": "x"}]), 400, "UNKNOWN_FIELD",
     "Unknown field \"titel\" in body. Did you mean 'title'?"),
    (lambda s: s["post"].update_where({"id": {"eq": 1}}, {"prise": "1"}), 400,
     "UNKNOWN_FIELD", "Unknown field \"prise\" in body. Did you mean 'price'?"),
    (lambda s: s["post"].insert([{"title": 5}]), 400, "INVALID_VALUE",
     'Invalid value 5 for "title" in body: expected a string'),
    (lambda s: s["post"].insert([{"title": "x", "counter": "3"}]), 400,
     "INVALID_VALUE", "Invalid value '3' for \"counter\" in body: expected an integer"),
    (lambda s: s["post"].insert([{"title": "x", "price": "abc"}]), 400,
     "INVALID_VALUE",
     "Invalid value 'abc' for \"price\" in body: expected a decimal number"),
    (lambda s: s["post"].update({"id": 1}, {"published": "yes"}, True), 400,
     "INVALID_VALUE",
     "Invalid value 'yes' for \"published\" in body: expected true or false"),
    (lambda s: s["post"].insert(["x"]), 400, "INVALID_BODY", NOT_OBJECT),
    (lambda s: s["post"].update({"id": 1}, ["x"], True), 400, "INVALID_BODY",
     NOT_OBJECT),
    (lambda s: s["post"].update_where({"id": {"eq": 1}}, ["x"]), 400, "INVALID_BODY",
     NOT_OBJECT),
    (lambda s: s["post"].update({"id": 1}, {"id": 2}, True), 400,
     "PRIMARY_KEY_MISMATCH", '"id" in the body differs from the key in the path'),
    (lambda s: s["owner"].insert([{"name": "Ada"}]), 409, "CONSTRAINT_VIOLATION",
     UNIQUE),
    (lambda s: s["owner"].update({"id": 2}, {"name": "Ada"}, True), 409,
     "CONSTRAINT_VIOLATION", UNIQUE),
    (lambda s: s["post"].insert([{"title": "x", "ownerId": 99}]), 409,
     "CONSTRAINT_VIOLATION", FOREIGN_KEY),
    (lambda s: s["post"].update_where({"counter": {"eq": 40}}, {"ownerId": 99}), 409,
     "CONSTRAINT_VIOLATION", FOREIGN_KEY),
    (lambda s: s["owner"].delete(key={"id": 1}), 409, "CONSTRAINT_VIOLATION",
     FOREIGN_KEY),
    (lambda s: s["post"].insert([{"title": "a"}, {"title": "b"},
                                 {"title": "c", "ownerId": 99}]),
     409, "CONSTRAINT_VIOLATION", FOREIGN_KEY),
    (lambda s: s["postTitle"].insert([{"title": "x"}]), 405, "READ_ONLY", READ_ONLY),
    (lambda s: s["postTitle"].update({"id": 1}, {"title": "x"}, True), 405,
     "READ_ONLY", READ_ONLY),
    (lambda s: s["postTitle"].update_where({"id": {"eq": 1}}, {"title": "x"}), 405,
     "READ_ONLY", READ_ONLY),
    (lambda s: s["postTitle"].delete(key={"id": 1}), 405, "READ_ONLY", READ_ONLY),
]
# fmt: on


@pytest.mark.parametrize(("write", "status", "code", "message"), WRITE_ERRORS)
def test_failing_write_changes_nothing_and_publishes_nothing(
    shop, received, write, status, code, message
):
    before = shop["owner"].find(), shop["post"].find()
    with api_error(status, code, message):
        write(shop)
    assert (shop["owner"].find(), shop["post"].find()) == before
    assert (shop["owner"].count(), shop["post"].count()) == (2, 4)
    assert received == []


@pytest.mark.parametrize("price", ["1234567.00", "1.999"])
def test_decimal_the_column_cannot_hold_is_refused_not_rounded(shop, price):
    with api_error(400, "INVALID_VALUE", re.compile(r"does not fit NUMERIC\(8, 2\)$")):
        shop["post"].insert([{"title": "Dear", "price": price}])
    assert shop["post"].count() == 4


def test_a_bulk_insert_reads_its_rows_back_in_one_query(shop):
    connection = connections["joule_shop"]
    rows = [{"title": f"Bulk {i}"} for i in range(20)]
    with CaptureQueriesContext(connection) as queries:
        stored = shop["post"].insert(rows, fields=["title"])
    assert stored == [{"title": f"Bulk {i}"} for i in range(20)]
    selects = [q for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1, [q["sql"] for q in selects]
