"""A property check of a db service's GraphQL API with hypothesis-graphql.

Operations generated from the products service's own schema (fetched by
introspection, as a client would) are POSTed in-process: valid queries and
mutations, then documents with one schema violation each. None may be a
500: every answer is JSON with ``data`` or ``errors``, and a 4xx has errors.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import graphql
import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema

from platform_core.testing import platform_client

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same operations on every run: failures reproduce
)


def _string(values: st.SearchStrategy) -> st.SearchStrategy:
    return values.map(lambda value: graphql.StringValueNode(value=str(value)))


# Value nodes for the schema's custom scalars, valid and not.
SCALARS = {
    "Decimal": _string(st.decimals(-(10**9), 10**9, places=2, allow_nan=False))
    | _string(st.text(max_size=8)),
    "DateTime": _string(
        st.datetimes(min_value=datetime.datetime(1900, 1, 1)).map(
            datetime.datetime.isoformat
        )
    )
    | _string(st.text(max_size=8)),
    "BigInt": st.integers(-(2**63), 2**63 - 1).map(
        lambda value: graphql.IntValueNode(value=str(value))
    ),
    "Date": _string(st.dates().map(datetime.date.isoformat)),
    "Time": _string(st.times().map(datetime.time.isoformat)),
    "UUID": _string(st.uuids()),
    "JSONString": _string(st.just("{}")),
    "GenericScalar": st.just(graphql.IntValueNode(value="1")),
}


@pytest.fixture
def client():
    call_command(
        "dbseed", "products", str(ROOT / "services/products/seeds/catalogue.json")
    )
    with platform_client() as client:
        yield client


@pytest.fixture
def schema(client) -> graphql.GraphQLSchema:
    """The products service's schema, as its introspection answers it."""
    response = client.post(
        "/products/graphql", json={"query": graphql.get_introspection_query()}
    )
    assert response.status_code == 200, response.text
    built = graphql.build_client_schema(response.json()["data"])
    custom = {
        name
        for name, named in built.type_map.items()
        if isinstance(named, graphql.GraphQLScalarType)
        and name not in graphql.specified_scalar_types
        and not name.startswith("__")
    }
    assert custom <= set(SCALARS), f"no strategy for {custom - set(SCALARS)}"
    return built


def check_answer(client, query: str, valid: bool) -> None:
    response = client.post("/products/graphql", json={"query": query})
    assert response.status_code < 500, (query, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert "data" in body or "errors" in body, (query, body)
    if response.status_code >= 400:
        assert body["errors"], (query, body)
    if not valid:
        assert body.get("errors"), (query, body)


def test_generated_operations_never_fail_the_server(client, schema):
    @FUZZ
    @given(query=from_schema(schema, custom_scalars=SCALARS))
    def run(query: str) -> None:
        check_answer(client, query, valid=True)

    run()


def test_operations_breaking_the_schema_are_client_errors(client, schema):
    @FUZZ
    @given(query=from_schema(schema, custom_scalars=SCALARS, mode=Mode.NEGATIVE))
    def run(query: str) -> None:
        check_answer(client, query, valid=False)

    run()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
BODIES = JSON_VALUES | st.fixed_dictionaries(
    {},
    optional={
        "query": JSON_VALUES | st.just("{ countProducts { total } }"),
        "variables": JSON_VALUES,
        "operationName": JSON_VALUES,
    },
)


def test_any_json_body_is_answered_without_a_server_error(client):
    @FUZZ
    @given(body=BODIES)
    def run(body) -> None:
        response = client.post(
            "/products/graphql",
            content=json.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code < 500, (body, response.text)
        answer = response.json()
        assert "data" in answer or answer.get("errors"), (body, answer)

    run()
