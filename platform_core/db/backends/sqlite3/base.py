"""Django's SQLite backend with writers queued instead of sleeping.

SQLite lets one writer in at a time; others retry in its busy handler,
sleeping 1, 2, 5 ... up to 100 ms between tries, so under steady writes a
waiter can lose the race for seconds. Here each transaction (``BEGIN
IMMEDIATE``, when SQLite takes its write lock) first takes a lock of the
database file: a thread lock within the process, then ``flock`` on
``<database>.joule-lock`` across processes, polled at most 0.5 ms apart.
Both are released at commit or rollback, when SQLite releases its own. The
wait is bounded by the connection's busy timeout; past it, the usual
"database is locked" error. ``take_write_lock()`` takes the lock ahead of
a transaction only if it is free at once, so an event loop can await its
turn and then write without blocking (the fast routes do)::

    DATABASES = {"default": {"ENGINE": "platform_core.db.backends.sqlite3", ...}}
"""

from __future__ import annotations

import fcntl
import os
import threading
import time

from django.db.backends.sqlite3 import base

_locks: dict[str, threading.Lock] = {}
_files: dict[str, tuple[int, int]] = {}  # database -> (pid, file descriptor)
_guard = threading.Lock()


def _lock_file(name: str) -> int:
    """Return this process's descriptor of the lock file (reopened after fork)."""
    pid, fd = _files.get(name, (None, -1))
    if pid != os.getpid():
        fd = os.open(f"{name}.joule-lock", os.O_RDWR | os.O_CREAT, 0o644)
        _files[name] = (os.getpid(), fd)
    return fd


class WriteLock:
    """The write lock of one database file, for one connection."""

    def __init__(self, name: str, timeout: float) -> None:
        self.name = name
        self.timeout = timeout
        with _guard:
            self.thread_lock = _locks.setdefault(name, threading.Lock())
        self.held = False

    def acquire(self) -> bool:
        """Take the lock; False when the timeout passed first."""
        deadline = time.monotonic() + self.timeout
        if not self.thread_lock.acquire(timeout=self.timeout):
            return False
        delay = 0.00005
        with _guard:
            fd = _lock_file(self.name)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.held = True
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self.thread_lock.release()
                    return False
                time.sleep(delay)
                delay = min(delay * 2, 0.0005)

    def try_acquire(self) -> bool:
        """Take the lock if it is free at once; False, holding nothing, if not."""
        if not self.thread_lock.acquire(blocking=False):
            return False
        with _guard:
            fd = _lock_file(self.name)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.thread_lock.release()
            return False
        self.held = True
        return True

    def release(self) -> None:
        if self.held:
            self.held = False
            fcntl.flock(_files[self.name][1], fcntl.LOCK_UN)
            self.thread_lock.release()


class DatabaseWrapper(base.DatabaseWrapper):
    """SQLite with transactions queued on a per-file write lock."""

    def _write_lock(self) -> WriteLock | None:
        if self.is_in_memory_db():
            return None
        if getattr(self, "_joule_lock", None) is None:
            timeout = self.settings_dict.get("OPTIONS", {}).get("timeout", 5)
            self._joule_lock = WriteLock(self.settings_dict["NAME"], timeout)
        return self._joule_lock

    def _start_transaction_under_autocommit(self):
        lock = self._write_lock()
        if lock is not None and not lock.held and not lock.acquire():
            raise self.Database.OperationalError("database is locked")
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release()
            raise

    def take_write_lock(self) -> bool:
        """Take the write lock for the next transaction if it is free at once.

        True when it is held (the transaction will not wait for it). A lock
        taken this way is released at that transaction's end, or by
        ``let_go_of_write_lock()`` if no transaction came.
        """
        lock = self._write_lock()
        return lock is None or lock.held or lock.try_acquire()

    def let_go_of_write_lock(self) -> None:
        """Release a write lock taken ahead that no open transaction holds."""
        if not self.in_atomic_block:
            self._release()

    def _release(self) -> None:
        lock = getattr(self, "_joule_lock", None)
        if lock is not None:
            lock.release()

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._release()
