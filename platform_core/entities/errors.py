"""Database errors answered as the JSON error of DESIGN.md, reads and writes alike.

One table says what each engine's error means for the client: a value the
database refuses is 400, a unique or foreign-key violation 409, a query too
large for the engine 400, a statement timeout 504 and a lost database 503.
It is keyed by SQLSTATE (PostgreSQL: one condition or its two-letter class),
error number (MariaDB, MySQL) and message start (SQLite). Plugged into
``exceptions.exception_response`` at start-up, so the Django middleware and
the fast routes answer with it too::

    except (IntegrityError, DataError) as exc:
        raise write_error(exc) from None

    database_error(DataError("LIKE pattern must not end with escape character"))
    # -> APIError INVALID_VALUE 400
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from django.db import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)

from platform_core.exceptions import (
    CONSTRAINT_VIOLATION,
    GATEWAY_TIMEOUT,
    INVALID_VALUE,
    NOT_NULL_VIOLATION,
    QUERY_TOO_LARGE,
    SERVICE_UNAVAILABLE,
    VALUE_TOO_LONG,
    APIError,
)

logger = logging.getLogger("joule.errors")


class Meaning(NamedTuple):
    """How a database error is answered; ``detail`` adds the engine's text."""

    status: int
    code: str
    message: str
    detail: bool = True


INVALID = Meaning(400, INVALID_VALUE, "Invalid value")
TOO_LONG = Meaning(400, VALUE_TOO_LONG, "Value too long")
MISSING = Meaning(400, NOT_NULL_VIOLATION, "Missing required value")
CHECK = Meaning(400, INVALID_VALUE, "Check constraint failed")
CONFLICT = Meaning(409, CONSTRAINT_VIOLATION, "Constraint violation")
TOO_LARGE = Meaning(
    400,
    QUERY_TOO_LARGE,
    "The query is too large for the database; use fewer conditions or values",
)
TIMEOUT = Meaning(
    504,
    GATEWAY_TIMEOUT,
    "The database did not answer in time; narrow the query or retry later",
    detail=False,
)
UNAVAILABLE = Meaning(
    503, SERVICE_UNAVAILABLE, "The database is unavailable; retry later", detail=False
)

# fmt: off
MEANINGS: dict[str | int, Meaning] = {
    # PostgreSQL: SQLSTATE, or its class (the first two characters)
    "22": INVALID,  # data exception: bad text, out of range, bad LIKE escape
    "22001": TOO_LONG,
    "23": CONFLICT, "23502": MISSING, "23514": CHECK,
    "54": TOO_LARGE,  # program limit exceeded: statement too complex, ...
    "57014": TIMEOUT, "55P03": TIMEOUT,  # statement_timeout, lock_timeout
    "08": UNAVAILABLE, "40": UNAVAILABLE, "53": UNAVAILABLE, "57": UNAVAILABLE,
    # MariaDB and MySQL: error numbers
    1048: MISSING, 1364: MISSING,
    1062: CONFLICT, 1586: CONFLICT, 1216: CONFLICT, 1217: CONFLICT,
    1451: CONFLICT, 1452: CONFLICT,
    1406: TOO_LONG,
    1264: INVALID, 1265: INVALID, 1292: INVALID, 1365: INVALID, 1366: INVALID,
    1367: INVALID, 1411: INVALID, 1690: INVALID, 1300: INVALID, 1918: INVALID,
    1267: INVALID, 1270: INVALID, 1271: INVALID,  # illegal mix of collations
    3819: CHECK, 4025: CHECK,
    1153: TOO_LARGE, 1436: TOO_LARGE,  # packet too large, thread stack overrun
    1969: TIMEOUT, 3024: TIMEOUT, 1317: TIMEOUT, 1205: TIMEOUT,
    1040: UNAVAILABLE, 1053: UNAVAILABLE, 2002: UNAVAILABLE, 2003: UNAVAILABLE,
    2006: UNAVAILABLE, 2013: UNAVAILABLE, 2055: UNAVAILABLE,
    # SQLite: the start of the message
    "NOT NULL constraint failed": MISSING,
    "CHECK constraint failed": CHECK,
    "UNIQUE constraint failed": CONFLICT,
    "FOREIGN KEY constraint failed": CONFLICT,
    "string or blob too big": TOO_LONG,
    "Expression tree is too large": TOO_LARGE,
    "too many SQL variables": TOO_LARGE,
    "LIKE or GLOB pattern too complex": TOO_LARGE,
    "parser stack overflow": TOO_LARGE,
    "too many columns": TOO_LARGE,
    "interrupted": TIMEOUT,
    "database is locked": UNAVAILABLE,
}
# fmt: on
_MESSAGES = [key for key in MEANINGS if isinstance(key, str) and len(key) > 5]
# What an error no key names means, by its class (others are bugs: None).
_BY_CLASS = (
    (DataError, INVALID),
    (IntegrityError, CONFLICT),
    (OperationalError, UNAVAILABLE),
    (InterfaceError, UNAVAILABLE),
)


def _key(exc: Exception) -> str | int:
    """Return the SQLSTATE, error number or message of ``exc``.

    Django wraps the driver's error (its ``__cause__``), except for the
    MariaDB errors it re-raises as IntegrityError itself (``args[0]``).
    """
    for source in (exc.__cause__, exc):
        sqlstate = getattr(source, "sqlstate", None)
        if sqlstate:
            return sqlstate
        args = getattr(source, "args", ())
        if args and isinstance(args[0], int):
            return args[0]
    return str(exc)


def meaning_of(exc: Exception) -> Meaning | None:
    """Return what database error ``exc`` means for the client, or None."""
    key = _key(exc)
    found = MEANINGS.get(key)
    if found is None and isinstance(key, str):
        found = MEANINGS.get(key[:2]) if len(key) == 5 else None
        found = found or next(
            (MEANINGS[m] for m in _MESSAGES if key.startswith(m)), None
        )
    if found is None:
        found = next((m for kind, m in _BY_CLASS if isinstance(exc, kind)), None)
    return found


def _detail(exc: Exception) -> str:
    """Return the engine's message: its first line, without an error number."""
    cause = exc.__cause__ or exc
    args = getattr(cause, "args", ())
    text = args[1] if len(args) > 1 and isinstance(args[0], int) else str(cause)
    lines = str(text).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def database_error(exc: Exception) -> APIError | None:
    """Return the APIError answering database error ``exc``.

    Return None for an error that is no database error or is the platform's
    own bug (a syntax error, a missing table): those stay 500s.
    """
    found = meaning_of(exc) if isinstance(exc, DatabaseError) else None
    if found is None:
        return None
    if not found.detail:
        logger.warning("database error answered %s: %s", found.status, exc)
        return APIError(found.code, found.status, found.message)
    return APIError(found.code, found.status, f"{found.message}: {_detail(exc)}")


def write_error(exc: Exception) -> APIError:
    """Return the APIError of a failed write (an IntegrityError or DataError)."""
    return database_error(exc) or APIError(INVALID_VALUE, 400, _detail(exc))
