"""Concurrent writes through a live server, on SQLite, PostgreSQL and MariaDB.

A compare-and-set (``PUT /<plural>?where.id.eq=1&where.n.eq=0``) lets
exactly one of many writers through; concurrent upserts of one missing row
all succeed; ``ETag``/``If-Match``/``If-None-Match`` make optimistic
concurrency exact; an ``Idempotency-Key`` makes a retried POST write once.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.db import connections

from platform_core.db.connections import alias_for
from platform_core.models import IdempotentRequest
from platform_core.rest import idempotency
from platform_core.testing import live_server, platform_client

KEY = {
    "sqlite": "INTEGER PRIMARY KEY",
    "postgresql": "SERIAL PRIMARY KEY",
    "mariadb": "INTEGER AUTO_INCREMENT PRIMARY KEY",
}
SCHEMA = """
CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0,
                       label VARCHAR(40));
CREATE TABLE docs (id INTEGER PRIMARY KEY, title VARCHAR(40),
                   version INTEGER NOT NULL DEFAULT 1);
CREATE TABLE notes (id {key}, text VARCHAR(40) NOT NULL);
"""
WRITERS = 40


@pytest.fixture
def shop(transactional_db, db_service, engine):
    """The shop service's tables on a live server; yields its base URL."""
    connection = connections[alias_for(db_service)]
    with connection.cursor() as cursor:
        for statement in connection.ops.prepare_sql_script(
            SCHEMA.format(key=KEY[engine])
        ):
            cursor.execute(statement)
    with live_server() as url:
        yield f"{url}/shop"


def at_once(count: int, call) -> list[httpx.Response]:
    """Return the answers of ``call(i)`` for i < count, sent concurrently."""
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(call, range(count)))


def test_a_compare_and_set_lets_exactly_one_writer_through(shop):
    with httpx.Client(base_url=shop, timeout=60) as client:
        assert client.put("/counters/1", json={"n": 0}).status_code == 201

        def swap(i: int) -> httpx.Response:
            with httpx.Client(base_url=shop, timeout=60) as own:
                return own.put(
                    "/counters?where.id.eq=1&where.n.eq=0",
                    json={"n": 1, "label": f"writer {i}"},
                )

        answers = at_once(WRITERS, swap)
        assert {a.status_code for a in answers} == {200}
        won = [a.json() for a in answers if a.json()]
        assert len(won) == 1, won
        assert won[0][0]["n"] == 1
        assert client.get("/counters/1").json() == won[0][0]


def test_concurrent_upserts_of_one_missing_row_all_succeed(shop):
    def upsert(i: int) -> httpx.Response:
        with httpx.Client(base_url=shop, timeout=60) as own:
            return own.put("/counters/7", json={"n": i, "label": f"writer {i}"})

    answers = at_once(20, upsert)
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 19 + [201], [a.text for a in answers]
    with httpx.Client(base_url=shop, timeout=60) as client:
        rows = client.get("/counters?where.id.eq=7").json()
    assert len(rows) == 1
    assert rows[0]["n"] in range(20)


def test_a_row_has_an_etag_that_if_none_match_answers_with_304(shop):
    with httpx.Client(base_url=shop, timeout=60) as client:
        put = client.put("/counters/1", json={"n": 5, "label": "a"})
        got = client.get("/counters/1")
        etag = got.headers["ETag"]
        assert etag.startswith('"') and len(etag) == 66  # a quoted SHA-256
        assert put.headers["ETag"] == etag
        assert client.get("/counters/1", params={"fields": "n"}).headers["ETag"] == (
            etag
        )
        again = client.get("/counters/1", headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["ETag"] == etag
        weak = client.get("/counters/1", headers={"If-None-Match": f'W/{etag}, "x"'})
        assert weak.status_code == 304
        other = client.get("/counters/1", headers={"If-None-Match": '"other"'})
        assert other.status_code == 200
        assert other.json() == {"id": 1, "n": 5, "label": "a"}
    # Django's path (no fast routes) answers the same.
    with platform_client(base_url="http://testserver/shop") as django:
        assert django.get("/counters/1").headers["ETag"] == etag
        cached = django.get("/counters/1", headers={"If-None-Match": etag})
        assert cached.status_code == 304


def test_a_version_column_is_the_etag(shop):
    with httpx.Client(base_url=shop, timeout=60) as client:
        put = client.put("/docs/1", json={"title": "Dog", "version": 3})
        assert put.headers["ETag"] == '"3"'
        assert client.get("/docs/1").headers["ETag"] == '"3"'
        stale = client.patch(
            "/docs/1", json={"title": "Cat", "version": 4}, headers={"If-Match": '"2"'}
        )
        assert stale.status_code == 412
        ok = client.patch(
            "/docs/1", json={"title": "Cat", "version": 4}, headers={"If-Match": '"3"'}
        )
        assert ok.status_code == 200
        assert ok.headers["ETag"] == '"4"'


def test_if_match_refuses_a_stale_write_with_412(shop):
    with httpx.Client(base_url=shop, timeout=60) as client:
        etag = client.put("/counters/1", json={"n": 1}).headers["ETag"]
        changed = client.patch("/counters/1", json={"n": 2}, headers={"If-Match": etag})
        assert changed.status_code == 200
        assert changed.headers["ETag"] != etag
        for method, body in (("PUT", {"n": 3}), ("PATCH", {"n": 3}), ("DELETE", None)):
            stale = client.request(
                method, "/counters/1", json=body, headers={"If-Match": etag}
            )
            assert stale.status_code == 412, (method, stale.text)
            assert stale.json()["code"] == "PRECONDITION_FAILED"
            assert "If-Match does not match the row" in stale.json()["message"]
        assert client.get("/counters/1").json()["n"] == 2
        current = changed.headers["ETag"]
        deleted = client.delete("/counters/1", headers={"If-Match": current})
        assert deleted.status_code == 200
        assert deleted.json() == {"id": 1, "n": 2, "label": None}


def test_if_match_on_a_missing_row(shop):
    with httpx.Client(base_url=shop, timeout=60) as client:
        created = client.put("/counters/9", json={"n": 1}, headers={"If-Match": "*"})
        assert created.status_code == 412
        assert "the row does not exist" in created.json()["message"]
        assert client.get("/counters/9").status_code == 404
        patched = client.patch("/counters/9", json={"n": 1}, headers={"If-Match": "*"})
        assert patched.status_code == 404
        assert client.put("/counters/9", json={"n": 1}).status_code == 201
        star = client.put("/counters/9", json={"n": 2}, headers={"If-Match": "*"})
        assert star.status_code == 200


def test_a_malformed_if_match_is_a_400(shop):
    with httpx.Client(base_url=shop, timeout=60) as client:
        client.put("/counters/1", json={"n": 1})
        for header in ("If-Match", "If-None-Match"):
            method = "GET" if header == "If-None-Match" else "PATCH"
            body = None if method == "GET" else {"n": 2}
            answer = client.request(
                method, "/counters/1", json=body, headers={header: "abc"}
            )
            assert answer.status_code == 400, answer.text
            assert answer.json()["code"] == "INVALID_HEADERS"
            assert f"{header} must be * or a list of ETags" in answer.json()["message"]
        assert client.get("/counters/1").json()["n"] == 1


def test_concurrent_if_match_writes_let_one_through(shop):
    with httpx.Client(base_url=shop, timeout=60) as client:
        etag = client.put("/counters/1", json={"n": 0}).headers["ETag"]

    def write(i: int) -> httpx.Response:
        with httpx.Client(base_url=shop, timeout=60) as own:
            return own.patch(
                "/counters/1", json={"n": i + 1}, headers={"If-Match": etag}
            )

    answers = at_once(20, write)
    assert sorted(a.status_code for a in answers) == [200] + [412] * 19


def test_an_idempotency_key_replays_the_first_answer(shop):
    with httpx.Client(base_url=shop, timeout=60) as client:
        headers = {"Idempotency-Key": "order-1"}
        first = client.post("/notes", json={"text": "once"}, headers=headers)
        assert first.status_code == 201
        assert "Idempotent-Replayed" not in first.headers
        again = client.post("/notes", json={"text": "once"}, headers=headers)
        assert again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.headers["Location"] == first.headers["Location"]
        assert again.json() == first.json()
        assert len(client.get("/notes").json()) == 1


def test_an_idempotency_key_with_another_body_is_a_422(shop):
    with httpx.Client(base_url=shop, timeout=60) as client:
        headers = {"Idempotency-Key": "order-2"}
        assert client.post("/notes", json={"text": "a"}, headers=headers).is_success
        other = client.post("/notes", json={"text": "b"}, headers=headers)
        assert other.status_code == 422
        assert other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
        assert "used with another request" in other.json()["message"]
        assert [n["text"] for n in client.get("/notes").json()] == ["a"]


def test_a_failed_post_keeps_no_answer(shop):
    with httpx.Client(base_url=shop, timeout=60) as client:
        headers = {"Idempotency-Key": "order-3"}
        bad = client.post("/notes", json={"text": None}, headers=headers)
        assert bad.status_code == 400
        # Nothing was written, nothing kept: the key is free for the fix.
        good = client.post("/notes", json={"text": "fixed"}, headers=headers)
        assert good.status_code == 201
        assert "Idempotent-Replayed" not in good.headers


def test_a_malformed_idempotency_key_is_a_400(shop):
    with httpx.Client(base_url=shop, timeout=60) as client:
        for key in ("", "x" * 256, "two words"):
            answer = client.post(
                "/notes", json={"text": "a"}, headers={"Idempotency-Key": key}
            )
            assert answer.status_code == 400, key
            assert answer.json()["code"] == "INVALID_HEADERS"
            assert "Idempotency-Key must be 1 to 255" in answer.json()["message"]
        assert client.get("/notes").json() == []


@pytest.fixture
def store_on_engine(shop, db_service, monkeypatch):
    """Keep idempotency keys in the engine's database, not the test one.

    The platform's test database is SQLite in memory with a shared cache,
    where concurrent writers fail at once ("database table is locked");
    a deployment's platform database is a file or a server, as here.
    """
    alias = alias_for(db_service)
    with connections[alias].schema_editor() as editor:
        editor.create_model(IdempotentRequest)
    monkeypatch.setattr(idempotency, "ALIAS", alias)
    return IdempotentRequest.objects.using(alias)


def test_concurrent_posts_with_one_key_write_one_row(shop, store_on_engine):
    def post(i: int) -> httpx.Response:
        with httpx.Client(base_url=shop, timeout=60) as own:
            return own.post(
                "/notes", json={"text": "race"}, headers={"Idempotency-Key": "race-1"}
            )

    answers = at_once(16, post)
    assert {a.status_code for a in answers} <= {201, 409}, [a.text for a in answers]
    originals = [a for a in answers if a.status_code == 201]
    assert len([a for a in originals if "Idempotent-Replayed" not in a.headers]) == 1
    assert len({a.text for a in originals}) == 1
    with httpx.Client(base_url=shop, timeout=60) as client:
        assert len(client.get("/notes").json()) == 1
    assert store_on_engine.filter(key="race-1").count() == 1
