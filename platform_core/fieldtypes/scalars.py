"""GraphQL scalars of column types graphene lacks: binary as base64 text.

``Base64`` writes ``bytes`` (SQLite, MariaDB) and ``memoryview``
(PostgreSQL ``bytea``) as base64, the text REST answers and writes take::

    FieldType(parsers.binary, string_schema("byte"), output=Base64,
              input=graphene.String)
"""

from __future__ import annotations

import base64
from typing import Any

import graphene


class Base64(graphene.Scalar):
    """Binary data as base64 text (RFC 4648, with padding)."""

    @staticmethod
    def serialize(value: Any) -> str:
        """Return the base64 text of bytes, memoryview or bytearray."""
        if isinstance(value, bytes | bytearray | memoryview):
            return base64.b64encode(bytes(value)).decode()
        return str(value)

    @staticmethod
    def parse_value(value: Any) -> Any:
        """Return the text as given: writes decode it (``parsers.binary``)."""
        return value

    @staticmethod
    def parse_literal(node: Any, _variables: Any = None) -> Any:
        """Return a string literal's text; writes decode it."""
        return getattr(node, "value", None)
