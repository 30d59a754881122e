"""Django's PostgreSQL backend with every wait for the server bounded.

The server's ``statement_timeout`` cancels a slow statement (504), and
``connect_timeout`` bounds a connection (503); neither helps when the
server stops answering altogether (its processes frozen, the network
gone): psycopg then waits for a reply forever and the thread is lost. Here
each wait for the server gives up after ``OPTIONS["answer_timeout"]``
seconds: the connection is closed and ``AnswerTimeout`` raised, which
Django reports as an OperationalError and the platform answers 504, as it
does the server's own statement timeout::

    DATABASES = {"orders": {"ENGINE": "platform_core.db.backends.postgresql",
                            "OPTIONS": {"answer_timeout": 31.0, ...}}}
"""

from __future__ import annotations

from typing import Any

import psycopg
from django.db.backends.postgresql import base
from psycopg import errors


class AnswerTimeout(errors.QueryCanceled):
    """The server sent no reply in time; the connection was closed.

    A QueryCanceled (SQLSTATE 57014) as the server's own statement timeout
    is, so it is answered alike: 504.
    """


class BoundedConnection(psycopg.Connection):
    """A psycopg connection that waits at most ``answer_timeout`` per reply."""

    answer_timeout: float | None = None

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None):
        """Consume ``gen``; raise AnswerTimeout when the server is silent too long."""
        limit = self.answer_timeout if timeout is None else timeout
        try:
            return super().wait(gen, interval=interval, timeout=limit)
        except errors._WaitTimeout:
            if timeout is not None:  # the caller's own limit (notifies())
                raise
            # Halfway through the protocol: the connection is of no more use.
            self.close()
            raise AnswerTimeout(
                f"PostgreSQL sent no answer within {limit:g} s"
            ) from None


class DatabaseWrapper(base.DatabaseWrapper):
    """Connections are BoundedConnections; otherwise Django's backend."""

    def get_connection_params(self) -> dict:
        """Return Django's parameters without the platform's own option."""
        params = super().get_connection_params()
        params.pop("answer_timeout", None)
        return params

    def get_new_connection(self, conn_params: dict) -> Any:
        """Open a BoundedConnection, as Django opens its connections.

        Django's own pool (``OPTIONS["pool"]``) keeps Django's connections.
        """
        if self.pool:
            return super().get_new_connection(conn_params)
        options = self.settings_dict["OPTIONS"]
        level = options.get("isolation_level")
        self.isolation_level = (
            base.IsolationLevel.READ_COMMITTED
            if level is None
            else base.IsolationLevel(level)
        )
        connection = BoundedConnection.connect(**conn_params)
        connection.answer_timeout = options.get("answer_timeout")
        if level is not None:
            connection.isolation_level = self.isolation_level
        return connection
