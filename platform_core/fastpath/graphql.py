"""GraphQL documents the fast routes answer without the Django view.

A POSTed JSON body holding a valid query or mutation (checked with the
view's own rules and document cache) is executed by ``run_document`` and
answered by ``answer_of``, as the view would; anything else (GET, GraphiQL,
a body that is not one operation, invalid documents, bad variables) is left
to the view, which refuses it with the right status::

    known = known_request(view_kwargs, body)
    if known is not None:
        status, body = answer_known(known)
"""

from __future__ import annotations

from dataclasses import dataclass

import graphene
import orjson
from graphql import OperationType, get_operation_ast
from graphql.language import DocumentNode, FieldNode

from platform_core.exceptions import APIError
from platform_core.graphql.documents import documents
from platform_core.graphql.execution import answer_of, is_request_error, run_document
from platform_core.graphql.views import read_operation


@dataclass(frozen=True)
class KnownRequest:
    """A POSTed operation whose document is valid under the view's rules."""

    schema: graphene.Schema
    document: DocumentNode
    variables: dict | None
    operation_name: str | None
    # mutation: writes (the fast routes run those where writes run).
    mutation: bool
    # one_transaction: a mutation of one root field, so one transaction.
    one_transaction: bool = False


def known_request(view_kwargs: dict, body: bytes) -> KnownRequest | None:
    """Return the request of a JSON body holding a valid query or mutation,
    checked with the view's own rules (and kept, as the view keeps it), or
    None when the view must answer it (anything else)."""
    try:
        query, variables, operation_name = read_operation(body)
    except APIError:
        return None  # not one operation (a batch, too deep, ...): the view words it
    if len(query) > view_kwargs.get("max_query_size", 20_000):
        return None
    schema = view_kwargs["schema"]
    document = documents(schema).get(query, view_kwargs["validation_rules"])
    if not isinstance(document, DocumentNode):
        return None  # not valid: the view words the errors
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation == OperationType.SUBSCRIPTION:
        return None
    mutation = operation.operation == OperationType.MUTATION
    fields = operation.selection_set.selections
    one = mutation and len(fields) == 1 and isinstance(fields[0], FieldNode)
    return KnownRequest(schema, document, variables, operation_name, mutation, one)


def answer_known(request: KnownRequest) -> tuple[int, bytes] | None:
    """Execute a known request; return (status, JSON) as the view answers it.

    None when the answer is a request-level error (bad variables), which
    happens before any resolver runs: the view then words it.
    """
    result = run_document(
        request.schema, request.document, request.variables, request.operation_name
    )
    if is_request_error(result):
        return None
    status, answer = answer_of(result)
    return status, orjson.dumps(answer)
