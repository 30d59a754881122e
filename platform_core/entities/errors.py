"""Database errors of writes, answered as the JSON error of DESIGN.md.

Unique and foreign-key violations are 409; NOT NULL, length and range
violations are 400. Each engine reports them its own way::

    except (IntegrityError, DataError) as exc:
        raise write_error(exc) from None
"""

from __future__ import annotations

from django.db import DataError, IntegrityError

from platform_core.exceptions import (
    CONSTRAINT_VIOLATION,
    INVALID_VALUE,
    NOT_NULL_VIOLATION,
    APIError,
)

# SQLSTATE (PostgreSQL), error numbers (MariaDB) and message starts (SQLite).
_NOT_NULL = {"23502", 1048, 1364, "NOT NULL constraint failed"}
_CHECK = {"23514", 4025, 3819, "CHECK constraint failed"}


def _key(exc: Exception):
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate:
        return sqlstate
    if cause is not None and cause.args and isinstance(cause.args[0], int):
        return cause.args[0]
    text = str(exc)
    return next(
        (k for k in _NOT_NULL | _CHECK if isinstance(k, str) and text.startswith(k)),
        text,
    )


def write_error(exc: Exception) -> APIError:
    """Return the APIError of a failed write."""
    key = _key(exc)
    cause = exc.__cause__ or exc
    args = getattr(cause, "args", ())
    text = args[1] if len(args) > 1 and isinstance(args[0], int) else str(cause)
    detail = str(text).strip().splitlines()[0]
    if isinstance(exc, DataError):
        return APIError(INVALID_VALUE, 400, f"Invalid value: {detail}")
    if key in _NOT_NULL:
        return APIError(NOT_NULL_VIOLATION, 400, f"Missing required value: {detail}")
    if key in _CHECK:
        return APIError(INVALID_VALUE, 400, f"Check constraint failed: {detail}")
    if isinstance(exc, IntegrityError):
        return APIError(CONSTRAINT_VIOLATION, 409, f"Constraint violation: {detail}")
    return APIError(INVALID_VALUE, 400, detail)
