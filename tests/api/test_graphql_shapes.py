"""Documents of a known shape skip full validation, with the same answers.

Each case first sends a valid document, so its shape is known, then one of
the same shape with other literals, which must get graphql-core's own answer.
"""

import pytest
from graphql import validate

from platform_core.graphql import documents
from tests.api.test_graphql import client, gql  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def test_a_new_literal_of_a_known_shape_is_not_validated_again(
    client,  # noqa: F811
    monkeypatch,
):
    calls = []

    def counted(*args, **kwargs):
        calls.append(args[1])
        return validate(*args, **kwargs)

    monkeypatch.setattr(documents, "validate", counted)
    skus = {
        gql(client, f"{{ getProductById(id: {i}) {{ sku }} }}")["data"][
            "getProductById"
        ]["sku"]
        for i in (1, 2, 3)
    }
    assert len(skus) == 3
    assert len(calls) == 1


@pytest.mark.parametrize(
    "valid, invalid, message",
    [
        (
            "{ products(limit: 1) { id } }",
            "{ products(limit: 99999999999) { id } }",
            "Int cannot represent non 32-bit signed integer value: 99999999999",
        ),
        (
            "{ products(limit: 1) { id } }",
            "{ products(limit: 1.5) { id } }",  # another shape: FLOAT for INT
            "Int cannot represent non-integer value: 1.5",
        ),
        (
            "{ products(limit: 1, offset: 0) { id } }",
            "{ products(limit: 1, offset: 99999999999) { id } }",  # the 2nd literal
            "Int cannot represent non 32-bit signed integer value: 99999999999",
        ),
        (
            "{ a: getProductById(id: 1) { id } a: getProductById(id: 1) { id } }",
            "{ a: getProductById(id: 1) { id } a: getProductById(id: 2) { id } }",
            "Fields 'a' conflict because they have differing arguments.",
        ),
        (
            "{ ...F a: getProductById(id: 1) { id } }"
            " fragment F on Query { a: getProductById(id: 1) { id } }",
            "{ ...F a: getProductById(id: 2) { id } }"
            " fragment F on Query { a: getProductById(id: 1) { id } }",
            "Fields 'a' conflict because they have differing arguments.",
        ),
    ],
)
def test_invalid_literals_of_a_known_shape_get_graphql_core_errors(
    client,  # noqa: F811
    valid,
    invalid,
    message,
):
    first = client.post("/products/graphql", json={"query": valid})
    response = client.post("/products/graphql", json={"query": invalid})
    errors = response.json().get("errors")
    assert errors, response.text
    assert first.json().get("errors") is None, first.text
    assert response.status_code == 400
    assert errors[0]["message"].startswith(message), errors


def test_a_wrong_literal_type_is_refused_as_before(client):  # noqa: F811
    gql(client, '{ products(where: {sku: {eq: "A"}}) { id } }')
    response = client.post(
        "/products/graphql",
        json={"query": "{ products(where: {sku: {eq: 5}}) { id } }"},
    )
    assert response.status_code == 400
    assert "String cannot represent a non string value: 5" in response.text
