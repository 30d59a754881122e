"""SQLite writes on the event loop's thread, each awaiting its turn.

SQLite admits one writer at a time; the platform's backend queues writers on
a lock of the database file (``db/backends/sqlite3``). A write handed to a
thread would wait for that lock there, and then for the interpreter lock
while the loop serves other requests, keeping the database locked meanwhile.
Instead the loop awaits the lock: it tries to take it, and while another
writer (a thread, another worker process) has it, yields to other requests
and tries again. Once the lock is held, the write runs on the loop's thread
with the loop set aside, as the fast reads do, and nothing waits inside it::

    answer = await write_in_turn(alias, serve, view_class, request, kwargs)
    if answer is None:   # the lock stayed taken past the busy timeout
        ...              # write in a thread, which waits and reports as SQLite does

Writers of one loop queue on an ``asyncio.Lock`` first, so only one of them
polls the file lock at a time.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable
from typing import Any

from django.db import connections

# Tries on every turn of the loop first, then once a millisecond.
EAGER_TRIES = 200
PATIENT_DELAY = 0.001

_queues: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def off_loop(function: Callable, *args: Any) -> Any:
    """Call sync ``function`` on this thread with the running loop set aside.

    The loop waits for the call (nothing else runs on it meanwhile), so
    Django's async-safety check and its per-task connections do not apply:
    the thread's own connection is used, as in a sync worker.
    """
    loop = asyncio.get_running_loop()
    asyncio._set_running_loop(None)
    try:
        return function(*args)
    finally:
        asyncio._set_running_loop(loop)


async def write_in_turn(alias: str, function: Callable, *args: Any) -> Any:
    """Call ``function(*args)`` here once ``alias``'s write lock is held.

    Returns None, having called nothing, when the lock stays taken past the
    connection's busy timeout.
    """
    async with _queue(alias):
        if not await _take(alias):
            return None
        try:
            return off_loop(function, *args)
        finally:
            off_loop(_let_go, alias)


async def _take(alias: str) -> bool:
    tries, deadline = 0, None
    while not off_loop(_try_take, alias):
        now = time.monotonic()
        if deadline is None:
            deadline = now + _timeout(alias)
        elif now >= deadline:
            return False
        tries += 1
        await asyncio.sleep(0 if tries < EAGER_TRIES else PATIENT_DELAY)
    return True


def _try_take(alias: str) -> bool:
    return connections[alias].take_write_lock()


def _let_go(alias: str) -> None:
    connections[alias].let_go_of_write_lock()


def _timeout(alias: str) -> float:
    return connections[alias].settings_dict.get("OPTIONS", {}).get("timeout", 5)


def _queue(alias: str) -> asyncio.Lock:
    """The queue of this loop's writers to ``alias``."""
    loop = asyncio.get_running_loop()
    queues = _queues.setdefault(loop, {})
    if alias not in queues:
        queues[alias] = asyncio.Lock()
    return queues[alias]
