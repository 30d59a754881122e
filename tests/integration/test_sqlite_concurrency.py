"""Concurrent writers on one SQLite file wait their turn: never "database is locked"."""

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connections

from platform_core.entities import entities

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

THREADS, WRITES = 8, 25


def test_concurrent_read_then_write_transactions_all_succeed(db_service):
    alias = f"joule_{db_service.label}"
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "CREATE TABLE counters (id INTEGER PRIMARY KEY, "
            "n INTEGER NOT NULL DEFAULT 0)"
        )
    counters = entities("shop")["counter"]
    counters.insert([{"id": 1}])
    errors = []

    def writer(worker: int) -> None:
        try:
            for i in range(WRITES):
                # update() reads (does the row exist?) then writes: with
                # SQLite's default DEFERRED transactions two such writers
                # deadlock and one fails at once with "database is locked".
                counters.update({"id": 1}, {"n": worker * 1000 + i}, partial=True)
                counters.insert([{"id": 1000 + worker * WRITES + i}])
        except Exception as exc:  # collected: the assertion shows them all
            errors.append(repr(exc))
        finally:
            connections[alias].close()

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert counters.count() == 1 + THREADS * WRITES


def test_writers_in_other_processes_queue_on_the_lock_file(db_service):
    """Two processes append rows at once; every write lands, none is refused."""
    alias = f"joule_{db_service.label}"
    name = connections[alias].settings_dict["NAME"]
    with connections[alias].cursor() as cursor:
        cursor.execute("CREATE TABLE marks (id INTEGER PRIMARY KEY, who TEXT)")
    script = (
        "import sys, django\n"
        "from django.conf import settings\n"
        "settings.configure(DATABASES={'default': {'ENGINE': "
        "'platform_core.db.backends.sqlite3', 'NAME': sys.argv[1], "
        "'OPTIONS': {'timeout': 20, 'transaction_mode': 'IMMEDIATE'}}})\n"
        "django.setup()\n"
        "from django.db import connection, transaction\n"
        "for i in range(200):\n"
        "    with transaction.atomic():\n"
        "        connection.cursor().execute("
        "'INSERT INTO marks (who) VALUES (%s)', [sys.argv[2]])\n"
    )
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script, name, who], stderr=subprocess.PIPE
        )
        for who in ("a", "b")
    ]
    errors = [run.communicate(timeout=120)[1].decode() for run in runs]
    assert [run.returncode for run in runs] == [0, 0], errors
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT who, COUNT(*) FROM marks GROUP BY who ORDER BY who")
        assert cursor.fetchall() == [("a", 200), ("b", 200)]
    assert Path(f"{name}.joule-lock").exists()


def test_the_write_lock_is_taken_ahead_only_when_free(db_service):
    from django.db import transaction

    alias = f"joule_{db_service.label}"
    with connections[alias].cursor() as cursor:
        cursor.execute("CREATE TABLE marks (id INTEGER PRIMARY KEY, who TEXT)")
    holding, release = threading.Event(), threading.Event()

    def holder() -> None:
        with transaction.atomic(using=alias):
            connections[alias].cursor().execute(
                "INSERT INTO marks (who) VALUES ('holder')"
            )
            holding.set()
            release.wait(30)
        connections[alias].close()

    thread = threading.Thread(target=holder)
    thread.start()
    assert holding.wait(30)
    try:
        assert connections[alias].take_write_lock() is False  # taken: no wait
    finally:
        release.set()
        thread.join(30)
    assert connections[alias].take_write_lock() is True
    with transaction.atomic(using=alias):  # the lock is already ours
        connections[alias].cursor().execute("INSERT INTO marks (who) VALUES ('y')")
    # The transaction's end released it: another thread writes at once.
    assert connections[alias].take_write_lock() is True
    connections[alias].let_go_of_write_lock()  # taken, then not used
    other = threading.Thread(target=holder)
    holding.clear()
    release.clear()
    other.start()
    assert holding.wait(5)
    release.set()
    other.join(30)
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT who FROM marks ORDER BY id")
        assert cursor.fetchall() == [("holder",), ("y",), ("holder",)]


def test_a_fast_insert_awaits_the_write_lock_while_reads_go_on(db_service):
    """A POST waits for a writer holding the lock, without blocking the server."""
    import concurrent.futures

    import httpx
    from django.db import transaction

    from platform_core.testing import live_server

    alias = f"joule_{db_service.label}"
    with connections[alias].cursor() as cursor:
        cursor.execute("CREATE TABLE marks (id INTEGER PRIMARY KEY, who TEXT)")
        cursor.execute("INSERT INTO marks (who) VALUES ('first')")
    with live_server() as url, concurrent.futures.ThreadPoolExecutor(2) as pool:
        shop = f"{url}/shop/marks"
        assert httpx.get(f"{shop}/1").status_code == 200  # routes built
        with transaction.atomic(using=alias):
            connections[alias].cursor().execute(
                "INSERT INTO marks (who) VALUES ('holder')"
            )
            posted = pool.submit(httpx.post, shop, json={"who": "post"}, timeout=30)
            for _ in range(5):  # the server's loop keeps answering reads
                assert httpx.get(f"{shop}/1", timeout=2).json()["who"] == "first"
            assert not posted.done()
        assert posted.result(timeout=30).status_code == 201
        rows = httpx.get(f"{shop}?orderby.id=asc&fields=who").json()
    assert [row["who"] for row in rows] == ["first", "holder", "post"]
