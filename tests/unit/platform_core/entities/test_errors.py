"""Database errors of every engine mapped to one status each, reads and writes alike.

The errors are built as Django raises them: its own class around the
driver's (``__cause__``), which carries the SQLSTATE (psycopg), the error
number (MySQLdb) or only a message (sqlite3). No database is needed.
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from django import db
from django.test import RequestFactory

from platform_core.entities.errors import database_error, write_error
from platform_core.exceptions import JsonErrorMiddleware, exception_response


def django_error(django_class: type, cause: Exception) -> Exception:
    """Return ``cause`` wrapped as Django's DatabaseErrorWrapper wraps it."""
    error = django_class(*cause.args)
    error.__cause__ = cause
    return error


def postgres(sqlstate: str, message: str) -> Exception:
    psycopg = pytest.importorskip("psycopg")
    return psycopg.errors.lookup(sqlstate)(message)


def mariadb(driver_class: str, number: int, message: str) -> Exception:
    mysqldb = pytest.importorskip("MySQLdb")
    return getattr(mysqldb, driver_class)(number, message)


LIKE = "LIKE pattern must not end with escape character"
ENUM = 'invalid input value for enum mood: "bogus"'
STRING = "Incorrect string value: '\\xF0\\x9F\\x90\\xB6' for column `legacy`"
COLLATIONS = (
    "Illegal mix of collations (latin1_swedish_ci,IMPLICIT) and "
    "(utf8mb4_general_ci,COERCIBLE) for operation '='"
)
TIMEOUT = "The database did not answer in time; narrow the query or retry later"
UNAVAILABLE = "The database is unavailable; retry later"
TOO_LARGE = "The query is too large for the database; use fewer conditions or values"
# fmt: off
CASES = [  # (Django class, driver error, status, code, message)
    (db.DataError, lambda: postgres("22025", LIKE + "\nDETAIL: x"), 400,
     "INVALID_VALUE", f"Invalid value: {LIKE}"),
    (db.DataError, lambda: postgres("22P02", ENUM), 400, "INVALID_VALUE",
     f"Invalid value: {ENUM}"),
    (db.DataError, lambda: postgres("22003", "integer out of range"), 400,
     "INVALID_VALUE", "Invalid value: integer out of range"),
    (db.DataError, lambda: postgres("22001", "value too long"), 400,
     "VALUE_TOO_LONG", "Value too long: value too long"),
    (db.IntegrityError, lambda: postgres("23505", "duplicate key"), 409,
     "CONSTRAINT_VIOLATION", "Constraint violation: duplicate key"),
    (db.IntegrityError, lambda: postgres("23502", "null value"), 400,
     "NOT_NULL_VIOLATION", "Missing required value: null value"),
    (db.OperationalError, lambda: postgres("57014", "canceling statement"), 504,
     "GATEWAY_TIMEOUT", TIMEOUT),
    (db.OperationalError, lambda: postgres("08006", "connection failure"), 503,
     "SERVICE_UNAVAILABLE", UNAVAILABLE),
    (db.OperationalError, lambda: postgres("54001", "stack depth"), 400,
     "QUERY_TOO_LARGE", f"{TOO_LARGE}: stack depth"),
    (db.OperationalError, lambda: mariadb("OperationalError", 1366, STRING), 400,
     "INVALID_VALUE", f"Invalid value: {STRING}"),
    (db.OperationalError, lambda: mariadb("OperationalError", 1267, COLLATIONS),
     400, "INVALID_VALUE", f"Invalid value: {COLLATIONS}"),
    (db.OperationalError, lambda: mariadb("OperationalError", 1969, "interrupted"),
     504, "GATEWAY_TIMEOUT", TIMEOUT),
    (db.OperationalError, lambda: mariadb("OperationalError", 3024, "exceeded"),
     504, "GATEWAY_TIMEOUT", TIMEOUT),
    (db.OperationalError, lambda: mariadb("OperationalError", 2006, "gone away"),
     503, "SERVICE_UNAVAILABLE", UNAVAILABLE),
    (db.IntegrityError, lambda: mariadb("IntegrityError", 1062, "Duplicate entry"),
     409, "CONSTRAINT_VIOLATION", "Constraint violation: Duplicate entry"),
    (db.OperationalError,
     lambda: sqlite3.OperationalError("Expression tree is too large (maximum "
                                      "depth 1000)"),
     400, "QUERY_TOO_LARGE", f"{TOO_LARGE}: Expression tree is too large "
     "(maximum depth 1000)"),
    (db.OperationalError, lambda: sqlite3.OperationalError("too many SQL variables"),
     400, "QUERY_TOO_LARGE", f"{TOO_LARGE}: too many SQL variables"),
    (db.OperationalError, lambda: sqlite3.OperationalError("database is locked"),
     503, "SERVICE_UNAVAILABLE", UNAVAILABLE),
    (db.IntegrityError,
     lambda: sqlite3.IntegrityError("UNIQUE constraint failed: owners.name"),
     409, "CONSTRAINT_VIOLATION",
     "Constraint violation: UNIQUE constraint failed: owners.name"),
    (db.IntegrityError,
     lambda: sqlite3.IntegrityError("NOT NULL constraint failed: posts.title"),
     400, "NOT_NULL_VIOLATION",
     "Missing required value: NOT NULL constraint failed: posts.title"),
]
# fmt: on


@pytest.mark.parametrize(
    ("django_class", "cause", "status", "code", "message"),
    CASES,
    ids=[f"{c[0].__name__}-{c[2]}-{c[3]}-{i}" for i, c in enumerate(CASES)],
)
def test_each_engines_errors_map_to_one_status(
    django_class, cause, status, code, message
):
    error = database_error(django_error(django_class, cause()))
    assert (error.status, error.code, error.message) == (status, code, message)


def test_mariadb_errors_django_reraises_itself_are_read_by_number():
    # Django's MySQL backend raises IntegrityError(1690, ...) with no cause.
    error = database_error(db.IntegrityError(1690, "BIGINT value is out of range"))
    assert (error.status, error.code) == (400, "INVALID_VALUE")


def test_an_error_of_the_platform_itself_stays_a_500():
    cause = sqlite3.OperationalError("no such function: nope")
    assert database_error(django_error(db.ProgrammingError, cause)) is None
    assert database_error(ValueError("not a database error")) is None


def test_an_unlisted_error_falls_back_on_its_class():
    error = database_error(django_error(db.DataError, sqlite3.DataError("odd")))
    assert (error.status, error.code, error.message) == (
        400,
        "INVALID_VALUE",
        "Invalid value: odd",
    )
    error = database_error(django_error(db.OperationalError, OSError("reset")))
    assert (error.status, error.code) == (503, "SERVICE_UNAVAILABLE")


def test_write_error_keeps_its_messages():
    cause = sqlite3.IntegrityError("CHECK constraint failed: positive")
    error = write_error(django_error(db.IntegrityError, cause))
    assert (error.status, error.code, error.message) == (
        400,
        "INVALID_VALUE",
        "Check constraint failed: CHECK constraint failed: positive",
    )


def test_the_django_middleware_answers_with_the_table():
    cause = postgres("22025", LIKE)
    middleware = JsonErrorMiddleware(lambda request: None)
    response = middleware.process_exception(
        RequestFactory().get("/x"), django_error(db.DataError, cause)
    )
    assert response.status_code == 400
    assert json.loads(response.content) == {
        "statusCode": 400,
        "code": "INVALID_VALUE",
        "error": "Bad Request",
        "message": f"Invalid value: {LIKE}",
    }
    timeout = django_error(db.OperationalError, postgres("57014", "canceled"))
    assert exception_response(timeout).status_code == 504
