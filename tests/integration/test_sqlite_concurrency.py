"""Concurrent writers on one SQLite file wait their turn: never "database is locked"."""

import threading

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
