"""Document shapes: the tokens of a document with its literals replaced by kind.

A shape validated once in full lets a later document of that shape be
checked by its literal values only, with graphql-core's own answer.
"""

from __future__ import annotations

import pytest
from graphql import TokenKind, build_schema, parse, validate

from platform_core.graphql.shapes import Shapes, literal_types, shape_of, valid_literal

SCHEMA = build_schema(
    """
    input PostWhere { id: Int, title: String }
    enum Order { ASC DESC }
    type Post { id: Int!, title: String }
    type Query {
      post(id: Int!): Post
      posts(limit: Int, title: String, price: Float, where: PostWhere,
            order: Order, ids: [Int!]): [Post!]!
    }
    """
)
INT, FLOAT, STRING = (SCHEMA.get_type(name) for name in ("Int", "Float", "String"))


def shape(query: str) -> tuple[str, list]:
    return shape_of(parse(query))


def types_of(query: str) -> list | None:
    document = parse(query)
    return literal_types(SCHEMA, document, shape_of(document)[1])


def test_documents_differing_in_literal_values_share_one_shape():
    key, literals = shape('{ posts(title: "Dog", limit: 1) { id } }')
    other, other_literals = shape('{ posts(title: "Cat", limit: 20) { id } }')
    assert key == other
    assert literals == [(TokenKind.STRING, "Dog"), (TokenKind.INT, "1")]
    assert other_literals == [(TokenKind.STRING, "Cat"), (TokenKind.INT, "20")]


def test_the_shape_marks_each_literal_by_kind():
    key, _ = shape('{ posts(limit: 1, price: 2.5, title: "x") { id } }')
    assert "posts ( limit : <INT> price : <FLOAT> title : <STRING> )" in key


@pytest.mark.parametrize(
    ("query", "other", "same"),
    [
        ("{ post(id: 42) { id } }", "{ post(id: 4.5) { id } }", False),
        ("{ post(id: 42) { id } }", '{ post(id: "42") { id } }', False),
        ('{ posts(title: "a") { id } }', '{ posts(title: """a""") { id } }', True),
        ("{ post(id: 1) { id } }", "{post(id:1){id}} # a comment", True),
        ("{ posts(order: ASC) { id } }", "{ posts(order: DESC) { id } }", False),
        ("{ posts(ids: [1]) { id } }", "{ posts(ids: [1, 2]) { id } }", False),
        ("{ post(id: 1) { id } }", "{ post(id: 1) { title } }", False),
    ],
)
def test_only_literal_values_and_layout_leave_the_shape_alone(query, other, same):
    assert (shape(query)[0] == shape(other)[0]) is same


def test_a_document_of_variables_has_no_literals():
    assert shape("query Q($id: Int!) { post(id: $id) { id } }")[1] == []


@pytest.mark.parametrize(
    ("query", "types"),
    [
        ("{ post(id: 42) { id } }", [INT]),
        ('{ posts(title: "Dog", limit: 1, price: 2) { id } }', [STRING, INT, FLOAT]),
        ('{ posts(where: {id: 1, title: "x"}) { id } }', [INT, STRING]),
        ("{ posts(ids: [1, 2]) { id } }", [INT, INT]),
        ("{ a: post(id: 1) { id } b: post(id: 2) { id } }", [INT, INT]),
        ("query Q($id: Int = 5) { post(id: $id) { id } }", [INT]),
        ("{ posts(order: ASC) { id } }", []),
    ],
)
def test_literal_types_are_the_input_types_in_document_order(query, types):
    assert types_of(query) == types


@pytest.mark.parametrize(
    "query",
    [
        "{ ...F } fragment F on Query { post(id: 1) { id } }",
        "{ posts { ... on Post { id } } }",
        "{ a: post(id: 1) { id } a: post(id: 2) { id } }",  # merged: args compared
        "{ post(id: 1) { id } post(id: 1) { title } }",
        "{ posts(nope: 1) { id } }",  # no input type at the literal
    ],
)
def test_shapes_that_must_always_be_validated_in_full_have_no_types(query):
    assert types_of(query) is None


@pytest.mark.parametrize(
    ("named_type", "kind", "value", "valid"),
    [
        (INT, TokenKind.INT, "42", True),
        (INT, TokenKind.INT, "-2147483648", True),
        (INT, TokenKind.INT, "2147483648", False),  # not 32-bit
        (INT, TokenKind.FLOAT, "1.5", False),
        (INT, TokenKind.STRING, "1", False),
        (FLOAT, TokenKind.INT, "1", True),
        (FLOAT, TokenKind.FLOAT, "2.5", True),
        (STRING, TokenKind.STRING, "x", True),
        (STRING, TokenKind.BLOCK_STRING, "x", True),
        (STRING, TokenKind.INT, "1", False),
    ],
)
def test_valid_literal_gives_graphql_cores_answer(named_type, kind, value, valid):
    assert valid_literal(named_type, kind, value) is valid


def learnt(query: str) -> Shapes:
    """Return shapes that learnt ``query``'s shape, as after a full validation."""
    assert validate(SCHEMA, parse(query)) == []
    shapes = Shapes()
    key, _ = shape(query)
    shapes.learn(key, types_of(query))
    return shapes


@pytest.mark.parametrize(
    ("known", "query"),
    [
        ("{ post(id: 1) { id } }", "{ post(id: 99) { id } }"),
        ("{ post(id: 1) { id } }", "{ post(id: 99999999999) { id } }"),
        (
            "{ posts(limit: 1, price: 1) { id } }",
            "{ posts(limit: 1, price: 99999999999) { id } }",  # Float takes it
        ),
        (
            "{ posts(limit: 1, ids: [1]) { id } }",
            "{ posts(limit: 1, ids: [2147483648]) { id } }",  # the 2nd literal
        ),
        ("{ posts(where: {id: 1}) { id } }", "{ posts(where: {id: -7}) { id } }"),
    ],
)
def test_a_known_shape_answers_as_full_validation_does(known, query):
    key, literals = shape(query)
    assert key == shape(known)[0]
    assert learnt(known).valid(key, literals) is (validate(SCHEMA, parse(query)) == [])


def test_an_unknown_shape_is_never_valid_until_learnt():
    shapes = Shapes()
    key, literals = shape("{ post(id: 1) { id } }")
    assert not shapes.knows(key)
    assert not shapes.valid(key, literals)
    shapes.learn(key, [INT])
    assert shapes.knows(key) and shapes.valid(key, literals)


def test_a_shape_learnt_without_types_is_known_but_validated_in_full():
    query = "{ ...F } fragment F on Query { post(id: 1) { id } }"
    shapes = learnt(query)
    key, literals = shape(query)
    assert shapes.knows(key)
    assert not shapes.valid(key, literals)


def test_the_least_recently_used_shape_is_forgotten_first(monkeypatch):
    monkeypatch.setattr(Shapes, "size", 2)
    shapes = Shapes()
    keys = [
        shape(f"{{ post(id: 1) {{ {fields} }} }}")[0]
        for fields in ("id", "title", "id title")
    ]
    shapes.learn(keys[0], [INT])
    shapes.learn(keys[1], [INT])
    assert shapes.valid(keys[0], [(TokenKind.INT, "1")])  # used: now the newest
    shapes.learn(keys[2], [INT])
    assert [shapes.knows(key) for key in keys] == [True, False, True]
