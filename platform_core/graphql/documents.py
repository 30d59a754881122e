"""Parsed and validated GraphQL documents of a schema, kept by query text.

Parsing and validating cost more than executing a small query; a document
is checked once per text (LRU), and documents that differ only in literal
values are checked once per shape (``shapes.py``)::

    document = documents(schema).get(query, validation_rules)
    # a DocumentNode, or an ExecutionResult holding the errors

``validate_document`` validates a document whatever its fragments: a cycle
or an unknown fragment is a validation error, never a RecursionError.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict

import graphene
from graphql import (
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    ValidationRule,
    parse,
    specified_rules,
    validate,
)
from graphql.language import DocumentNode, ListValueNode, ObjectValueNode
from graphql.validation.validate import ValidationAbortedError

from platform_core.graphql.shapes import Shapes, literal_types, shape_of

# Deepest nesting of list and object values written in a document
# (``where: {or: [{or: ...}]}``), as for a JSON body's.
MAX_VALUE_DEPTH = 64


class ValueDepthRule(ValidationRule):
    """Refuse list and object values nested over ``MAX_VALUE_DEPTH`` levels."""

    def __init__(self, context) -> None:
        super().__init__(context)
        self.depth = 0
        self.reported = False

    def enter_list_value(self, node: ListValueNode | ObjectValueNode, *args) -> None:
        self.depth += 1
        if self.depth > MAX_VALUE_DEPTH and not self.reported:
            self.reported = True
            self.report_error(
                GraphQLError(
                    f"Values in the query are nested more than {MAX_VALUE_DEPTH} "
                    "levels deep",
                    node,
                )
            )

    def leave_list_value(self, *args) -> None:
        self.depth -= 1

    enter_object_value = enter_list_value
    leave_object_value = leave_list_value


def validate_document(
    schema: GraphQLSchema, document: DocumentNode, rules
) -> list[GraphQLError]:
    """Return the errors of ``document`` under ``rules`` (empty: valid).

    ``ValueDepthRule`` runs with them. The platform's limits (graphene's
    depth rule) follow fragment spreads before any rule reports: on a cycle
    they recurse until Python stops them, on an unknown fragment they fail
    with a KeyError. Such a document is validated again under graphql-core's
    standard rules alone, which name what is wrong; never a 500.
    """
    rules = list(rules or specified_rules)
    try:
        errors = validate(schema, document, [*rules, ValueDepthRule])
    except (RecursionError, KeyError):
        standard = [rule for rule in rules if rule in specified_rules]
        errors = validate(schema, document, [*standard, ValueDepthRule])
        errors = errors or [GraphQLError(TOO_DEEP)]
    return [_worded(error) for error in errors]


TOO_DEEP = "The query nests fragments too deeply to be validated"


def _worded(error: GraphQLError) -> GraphQLError:
    """Say why graphql-core aborted a validation it could not finish."""
    if isinstance(error, ValidationAbortedError) and error.message == (
        "Validation aborted."  # fragments nested over graphql-core's limit
    ):
        return GraphQLError(TOO_DEEP)
    return error


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
        errors = validate_document(schema, document, rules)
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
