"""Parsed and validated GraphQL documents of a schema, kept by query text.

Parsing and validating cost more than executing a small query; a document
is checked once per text (LRU), and documents that differ only in literal
values are checked once per shape (``shapes.py``)::

    document = documents(schema).get(query, validation_rules)
    # a DocumentNode, or an ExecutionResult holding the errors
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict

import graphene
from graphql import ExecutionResult, GraphQLError, parse, validate
from graphql.language import DocumentNode

from platform_core.graphql.shapes import Shapes, literal_types, shape_of


class Documents:
    """Parsed and validated documents of one schema, by query text (LRU), and
    the valid shapes of documents with other literal values (``shapes``)."""

    size = 512

    def __init__(self, schema: graphene.Schema) -> None:
        self.schema = schema
        self._parsed: OrderedDict[str, DocumentNode | ExecutionResult] = OrderedDict()
        self._shapes = Shapes()
        self._lock = threading.Lock()

    def get(self, query: str, rules) -> DocumentNode | ExecutionResult:
        """Return the document of ``query``, or the result holding its errors."""
        with self._lock:
            parsed = self._parsed.get(query)
            if parsed is not None:
                self._parsed.move_to_end(query)
                return parsed
        try:
            document = parse(query)
        except GraphQLError as exc:
            return ExecutionResult(errors=[exc])
        key, literals = shape_of(document)
        with self._lock:
            if self._shapes.valid(key, literals):
                return document  # not kept by text: its values are one-off
            learnt = self._shapes.knows(key)
        schema = self.schema.graphql_schema
        errors = validate(schema, document, rules)
        parsed = ExecutionResult(data=None, errors=errors) if errors else document
        types = None if errors or learnt else literal_types(schema, document, literals)
        with self._lock:
            self._parsed[query] = parsed
            if len(self._parsed) > self.size:
                self._parsed.popitem(last=False)
            if not errors and not learnt:
                self._shapes.learn(key, types)
        return parsed


_documents: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def documents(schema: graphene.Schema) -> Documents:
    """Return the document cache of ``schema``."""
    found = _documents.get(schema)
    if found is None:
        found = _documents.setdefault(schema, Documents(schema))
    return found
