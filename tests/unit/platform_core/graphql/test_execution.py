"""The lean execution answers exactly as graphql-core's own execution."""

import graphene
import pytest
from graphql import execute, parse

from platform_core.graphql.execution import LeanExecution

ROWS = [
    {"id": 1, "name": "One", "note": None, "price": 1.5, "kind": "A", "tags": ["x"]},
    {"id": 2, "name": None, "note": "n", "price": "cheap", "kind": "B", "tags": []},
]


class Kind(graphene.Enum):
    A = "A"
    B = "B"


class Item(graphene.ObjectType):
    id = graphene.ID(required=True)
    name = graphene.String(required=True)  # None in the second row: an error
    note = graphene.String()
    price = graphene.Float()  # "cheap" cannot be serialized: an error
    kind = Kind()
    tags = graphene.List(graphene.String)
    shout = graphene.String(loud=graphene.Boolean())
    twin = graphene.Field(lambda: Item)

    def resolve_shout(root, info, loud=False):
        return (root["note"] or "quiet").upper() if loud else root["note"]

    def resolve_twin(root, info):
        return dict(root)


class Query(graphene.ObjectType):
    items = graphene.List(Item)
    first = graphene.Field(Item)

    def resolve_items(root, info):
        return ROWS

    def resolve_first(root, info):
        return ROWS[0]


SCHEMA = graphene.Schema(query=Query).graphql_schema

QUERIES = [
    "{ first { id name note price kind tags } }",
    "{ first { a: id b: name __typename } }",
    "{ first { shout loud: shout(loud: true) } }",
    "{ first { id @include(if: false) name @skip(if: false) } }",
    "{ first { ...F name } } fragment F on Item { name id }",
    "{ first { twin { id twin { name } } } }",
    "{ items { id note } }",
    "{ items { id name } }",  # a null in a non-null field
    "{ items { id price } }",  # a value its type cannot serialize
    "{ items { id twin { name price } } }",
]


@pytest.mark.parametrize("query", QUERIES)
def test_the_lean_execution_answers_as_graphql_core(query):
    document = parse(query)
    expected = execute(SCHEMA, document)
    lean = execute(SCHEMA, document, execution_context_class=LeanExecution)
    assert lean.data == expected.data
    assert [e.formatted for e in lean.errors or []] == [
        e.formatted for e in expected.errors or []
    ]
