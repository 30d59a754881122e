"""What ``manage.py start`` does before the production server serves.

Django's migrations and every db service's pending SQL migrations run once,
under the platform database's migration lock (``db.locks``), so replicas
starting together never apply one twice; then gunicorn takes over the
process with the uvicorn workers of ``runtime.gunicorn_conf``::

    migrate_all(print)                   # under the lock
    os.execve(sys.executable, gunicorn_argv(bind, workers), env)
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable

from django.core.management import call_command
from django.db import connections

from platform_core.db.locks import migration_lock
from platform_core.db.migrator import apply_all

APPLICATION = "platform_core.asgi:application"
GUNICORN_CONF = "python:platform_core.runtime.gunicorn_conf"


def apply_sql_migrations(say: Callable[[str], None]) -> None:
    """Apply every db service's pending SQL migrations, under the lock."""
    with migration_lock():
        for service_id, applied in apply_all().items():
            for migration in applied:
                say(f"{service_id}: applied {migration.do.name}")


def migrate_all(say: Callable[[str], None], verbosity: int = 1) -> None:
    """Apply Django's migrations, then the SQL ones, once, under the lock.

    ``say`` gets each line migrate prints (one log record each, so the
    server's output stays in one format). Connections are closed afterwards:
    the server's workers open their own.
    """
    output = io.StringIO()
    try:
        with migration_lock():
            call_command(
                "migrate", interactive=False, verbosity=verbosity, stdout=output
            )
            for line in output.getvalue().splitlines():
                if line.strip():
                    say(line.strip())
            for service_id, applied in apply_all().items():
                for migration in applied:
                    say(f"{service_id}: applied {migration.do.name}")
    finally:
        connections.close_all()


def gunicorn_argv(bind: str | None = None, workers: int | None = None) -> list[str]:
    """Return the command line of the production server."""
    argv = [sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONF]
    if bind:
        argv += ["--bind", bind]
    if workers:
        argv += ["--workers", str(workers)]
    return [*argv, APPLICATION]
