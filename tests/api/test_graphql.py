"""GraphQL API of db services: queries, relations in batches, mutations, errors."""

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from platform_core.testing import platform_client

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def client():
    call_command(
        "dbseed", "products", str(ROOT / "services/products/seeds/catalogue.json")
    )
    with platform_client() as client:
        yield client


@pytest.fixture
def seed(tmp_path):
    """Load {plural: rows} into the products service through dbseed."""

    def load(rows: dict) -> None:
        path = tmp_path / f"seed{len(list(tmp_path.iterdir()))}.json"
        path.write_text(json.dumps(rows))
        call_command("dbseed", "products", str(path))

    return load


def gql(client, query, variables=None, status=200):
    response = client.post(
        "/products/graphql", json={"query": query, "variables": variables or {}}
    )
    assert response.status_code == status, response.text
    return response.json()


def test_list_filters_orders_and_pages(client):
    data = gql(
        client,
        """{ products(where: {price: {gt: "9"}, or: [{stock: {eq: 0}},
        {sku: {like: "COF%"}}]}, orderBy: [{field: price, direction: DESC}],
        limit: 1, offset: 1) { sku price } }""",
    )["data"]
    assert data == {"products": [{"sku": "COF-COL-250", "price": "11.00"}]}


def test_lists_default_to_the_rest_limit(client, seed):
    seed(
        {
            "products": [
                {"sku": f"X-{i}", "title": "x", "price": "1.00"} for i in range(15)
            ]
        }
    )
    assert len(gql(client, "{ products { id } }")["data"]["products"]) == 10


def test_get_by_key_and_count(client):
    data = gql(
        client,
        """{ getProductById(id: 3) { title category { name } }
        missing: getProductById(id: 999) { title }
        countProducts(where: {categoryId: {eq: 1}}) { total } }""",
    )["data"]
    assert data == {
        "getProductById": {"title": "Sencha 100 g", "category": {"name": "Tea"}},
        "missing": None,
        "countProducts": {"total": 2},
    }


def test_relations_both_ways_with_arguments_and_aliases(client):
    data = gql(
        client,
        """{ categories(where: {id: {eq: 1}}) { name
        cheap: products(orderBy: [{field: price}], limit: 1) { sku }
        dear: products(orderBy: [{field: price, direction: DESC}], limit: 1) {
          sku category { name } } } }""",
    )["data"]
    assert data == {
        "categories": [
            {
                "name": "Coffee",
                "cheap": [{"sku": "COF-COL-250"}],
                "dear": [{"sku": "COF-ETH-250", "category": {"name": "Coffee"}}],
            }
        ]
    }


def test_nested_relations_cost_a_constant_number_of_queries(client):
    rows = {
        "categories": [{"id": 100 + i, "name": f"C{i}"} for i in range(100)],
        "products": [
            {"sku": f"P{i}-{j}", "title": "t", "price": "1.00", "categoryId": 100 + i}
            for i in range(100)
            for j in range(2)
        ],
    }
    import json
    import tempfile

    path = Path(tempfile.mkdtemp()) / "wide.json"
    path.write_text(json.dumps(rows))
    call_command("dbseed", "products", str(path))
    query = """{ categories(where: {id: {gte: 100}}, limit: 100) { name
        products(limit: 5) { sku category { name products(limit: 1) { sku } } } } }"""
    with CaptureQueriesContext(connection) as queries:
        data = gql(client, query)["data"]
    assert len(data["categories"]) == 100
    assert all(len(c["products"]) == 2 for c in data["categories"])
    # categories, their products, those products' categories, their products
    assert len(queries) == 4, [q["sql"] for q in queries]


def test_save_inserts_then_updates_and_insert_and_delete_return_rows(client):
    saved = gql(client, 'mutation { saveCategory(input: {name: "Cups"}) { id name } }')
    new_id = saved["data"]["saveCategory"]["id"]
    updated = gql(
        client,
        "mutation ($id: BigInt!) { saveCategory(input: {id: $id, "
        'name: "Mugs"}) { id name } }',
        {"id": new_id},
    )
    assert updated["data"]["saveCategory"] == {"id": new_id, "name": "Mugs"}
    inserted = gql(
        client,
        """mutation { insertProducts(inputs: [
        {sku: "M-1", title: "Mug", price: "4.00"},
        {sku: "M-2", title: "Cup", price: "3"}])
        { sku price } }""",
    )["data"]["insertProducts"]
    assert inserted == [
        {"sku": "M-1", "price": "4.00"},
        {"sku": "M-2", "price": "3.00"},
    ]
    deleted = gql(
        client, 'mutation { deleteProducts(where: {sku: {like: "M-%"}}) { sku } }'
    )["data"]["deleteProducts"]
    assert sorted(row["sku"] for row in deleted) == ["M-1", "M-2"]
    assert (
        gql(client, '{ countProducts(where: {sku: {like: "M-%"}}) { total } }')["data"][
            "countProducts"
        ]["total"]
        == 0
    )


def test_resolver_errors_carry_the_rest_message_code_and_path(client):
    body = gql(
        client,
        'mutation { insertProducts(inputs: [{sku: "COF-ETH-250", '
        'title: "dup", price: "1"}]) { id } }',
    )
    (error,) = body["errors"]
    assert error["path"] == ["insertProducts"]
    assert error["extensions"] == {"code": "CONSTRAINT_VIOLATION", "statusCode": 409}
    assert error["message"].startswith("Constraint violation")
    body = gql(client, "{ products(limit: 1000) { id } }")
    assert body["errors"][0]["extensions"]["code"] == "INVALID_LIMIT"
    body = gql(client, 'mutation { saveProduct(input: {title: "no sku"}) { id } }')
    assert body["errors"][0]["message"] == 'Missing value for required field "sku"'


def test_a_failed_insert_of_many_stores_none(client):
    gql(
        client,
        """mutation { insertProducts(inputs: [{sku: "OK-1", title: "a",
        price: "1"}, {sku: "OK-1", title: "b", price: "1"}]) { id } }""",
    )
    assert (
        gql(client, '{ countProducts(where: {sku: {eq: "OK-1"}}) { total } }')["data"][
            "countProducts"
        ]["total"]
        == 0
    )


def test_validation_errors_are_http_400(client):
    body = gql(client, "{ products(where: {nope: {eq: 1}}) { id } }", status=400)
    assert "nope" in body["errors"][0]["message"]
    assert "Traceback" not in str(body)


def test_get_serves_queries_but_not_mutations(client):
    ok = client.get(
        "/products/graphql", params={"query": "{ countProducts { total } }"}
    )
    assert ok.json() == {"data": {"countProducts": {"total": 6}}}
    refused = client.get(
        "/products/graphql",
        params={"query": "mutation { deleteProducts(where: {id: {eq: 1}}) { id } }"},
    )
    assert refused.status_code == 405


def test_graphiql_is_served(client):
    page = client.get("/products/graphiql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


def _nested(depth: int) -> str:
    """Return products { category { products { ... { id } } } }, depth levels."""
    names = ["products", "category"]
    query = "id"
    for level in range(depth):
        query = f"{names[(depth - 1 - level) % 2]} {{ {query} }}"
    return "{ " + query + " }"


def test_depth_is_limited_on_top_of_the_standard_rules(client):
    assert "errors" not in gql(client, _nested(10))
    body = gql(client, _nested(12), status=400)
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]
    unknown = gql(client, "{ nope }", status=400)  # standard rules still run
    assert "Cannot query field 'nope'" in unknown["errors"][0]["message"]


def test_aliases_are_limited(client):
    query = (
        "{ " + " ".join(f"a{i}: countProducts {{ total }}" for i in range(51)) + " }"
    )
    body = gql(client, query, status=400)
    assert body["errors"][0]["message"] == "The query has more than 50 aliases"


def test_query_size_is_limited(client):
    body = gql(client, "{ countProducts { total } }" + " " * 20_001, status=413)
    assert body["errors"][0]["message"] == "The query is longer than 20000 characters"
