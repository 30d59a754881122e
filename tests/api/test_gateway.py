"""The composed API at the root: /openapi.json, /docs, /graphql; slash twins.

The example project has no gateway service: the platform serves the
composed API itself, ahead of the entrypoint (hello), which keeps "/".
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from drf_spectacular.validation import validate_schema

from platform_core.config.services import GatewayOptions
from platform_core.config.types import ServiceSpec
from platform_core.gateway.compose import composed_openapi
from platform_core.testing import asgi_client, platform_client, register_temporarily

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
ACCEPT_JSON = {"Accept": "application/json"}


@pytest.fixture
def client():
    with platform_client() as client:
        yield client


@pytest.fixture
def document(client):
    response = client.get("/openapi.json", headers=ACCEPT_JSON)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    return response.json()


def refs(node):
    """Yield every $ref value in ``node``."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def resolve(document, ref):
    node = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


# OpenAPI


def test_merged_document_is_valid_openapi_3(document):
    validate_schema(document)
    assert document["openapi"].startswith("3.")
    assert "servers" not in document  # paths carry the prefixes


def test_paths_of_each_db_service_are_under_its_prefix(client, document):
    for prefix in ("/products", "/orders"):
        own = client.get(f"{prefix}/openapi.json", headers=ACCEPT_JSON).json()
        for path, item in own["paths"].items():
            assert set(document["paths"][prefix + path]) == set(item), path
    assert "/products/products/{id}/category" in document["paths"]
    assert (
        "/orders/orderItems/order/{orderId}/productId/{productId}"
        in (document["paths"])
    )


def test_components_are_namespaced_by_service_and_refs_resolve(document):
    schemas = document["components"]["schemas"]
    assert {"ProductsProduct", "ProductsProductInput", "ProductsError"} <= set(schemas)
    assert {"OrdersCustomer", "OrdersOrderItemPatch", "OrdersError"} <= set(schemas)
    assert "Product" not in schemas and "Error" not in schemas
    found = set(refs(document))
    assert "#/components/schemas/ProductsProduct" in found
    for ref in found:
        resolve(document, ref)  # KeyError when a ref dangles


def test_operation_ids_are_prefixed_and_unique_and_tags_name_the_service(document):
    ids = Counter(op["operationId"] for _, _, op in operations(document))
    assert ids and max(ids.values()) == 1
    get = document["paths"]["/products/products/{id}"]["get"]
    assert get["operationId"] == "productsProductItemGet"
    assert get["tags"] == ["products"]
    for path, _, operation in operations(document):
        assert operation["tags"] == [path.split("/")[1]]
    names = {tag["name"] for tag in document["tags"]}
    assert {"products", "orders"} <= names


def test_custom_service_views_are_included_when_described(document):
    # hello's DRF views have no serializer: spectacular still lists them.
    assert "/hello/greet/{name}" in document["paths"]
    operation = document["paths"]["/hello/greet/{name}"]["get"]
    assert operation["operationId"].startswith("hello")


def test_security_requirements_follow_the_renamed_schemes(document):
    schemes = set(document["components"].get("securitySchemes", {}))
    for _, _, operation in operations(document):
        for requirement in operation.get("security", ()):
            assert set(requirement) <= schemes


def test_wsgi_and_frontend_services_are_left_out(document):
    assert not any(
        p.startswith(("/legacy/", "/legacy-api/")) for p in document["paths"]
    )


def test_spectacular_messages_are_logged_not_left_in_its_statistics(caplog):
    from drf_spectacular.drainage import GENERATOR_STATS

    from platform_core.gateway.compose import forget_composition

    before = (dict(GENERATOR_STATS._warn_cache), dict(GENERATOR_STATS._error_cache))
    forget_composition()
    composed_openapi()
    after = (dict(GENERATOR_STATS._warn_cache), dict(GENERATOR_STATS._error_cache))
    assert after == before  # manage.py spectacular --fail-on-warn stays clean
    assert any(
        "hello: OpenAPI:" in r.getMessage() and "HelloView" in r.getMessage()
        for r in caplog.records
    )


@pytest.mark.parametrize("path", ["/docs", "/docs/"])
def test_docs_serve_swagger_ui_over_the_merged_document(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert 'url: "/openapi.json"' in response.text


def test_the_document_is_kept_until_the_service_set_changes(document):
    first = composed_openapi()
    assert composed_openapi() is first
    gateway = ServiceSpec(
        "gw", "gateway", "/gw", ROOT, "services.gw", GatewayOptions(())
    )
    with register_temporarily(gateway):
        second = composed_openapi()
        assert second is not first
    assert composed_openapi() is not second


# a gateway service


def test_a_gateway_service_serves_the_composition_under_its_prefix(client):
    gateway = ServiceSpec(
        "gw", "gateway", "/gw", ROOT, "services.gw", GatewayOptions(())
    )
    with register_temporarily(gateway):
        document = client.get("/gw/openapi.json", headers=ACCEPT_JSON).json()
        assert "/products/products" in document["paths"]
        assert 'url: "/gw/openapi.json"' in client.get("/gw/docs").text
        answer = client.post(
            "/gw/graphql", json={"query": "{ countProducts { total } }"}
        )
        assert answer.json() == {"data": {"countProducts": {"total": 0}}}


# GraphQL


def graphql(client, query, path="/graphql", status=200):
    response = client.post(path, json={"query": query})
    assert response.status_code == status, response.text
    return response.json()


def test_composed_graphql_queries_two_services_at_once(client):
    call_command(
        "dbseed", "products", str(ROOT / "services/products/seeds/catalogue.json")
    )
    created = client.post(
        "/orders/customers", json={"email": "ada@example.org", "name": "Ada"}
    )
    assert created.status_code == 201, created.text
    data = graphql(
        client,
        "{ products(limit: 2, orderBy: {field: id, direction: ASC}) { id }"
        " customers { name } countCategories { total } }",
    )["data"]
    assert len(data["products"]) == 2
    assert data["customers"] == [{"name": "Ada"}]
    assert data["countCategories"]["total"] > 0


@pytest.mark.parametrize("path", ["/graphql", "/graphql/"])
def test_composed_graphql_mutates_and_answers_get_queries(client, path):
    saved = graphql(
        client,
        'mutation { saveCustomer(input: {email: "b@x.org", name: "B"}) { id } }',
        path=path,
    )
    assert saved["data"]["saveCustomer"]["id"] > 0
    answer = client.get(path, params={"query": "{ countCustomers { total } }"})
    assert answer.json() == {"data": {"countCustomers": {"total": 1}}}


def test_composed_graphql_errors_are_those_of_a_service(client):
    answer = graphql(client, "{ nope }", status=400)
    assert "Cannot query field 'nope'" in answer["errors"][0]["message"]
    long = "{ " + "products { id } " * 2000 + "}"
    assert client.post("/graphql", json={"query": long}).status_code == 413
    mutation = 'mutation { saveCustomer(input: {email: "c@x.org", name: "C"}) { id } }'
    assert client.get("/graphql", params={"query": mutation}).status_code == 405
    response = client.post(
        "/graphql", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


def test_graphiql_is_served_to_browsers(client):
    response = client.get("/graphiql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


# Routing


def test_the_entrypoint_still_answers_the_root_and_unmatched_paths(client):
    assert client.get("/").json()["message"] == "Hello from Joule"
    assert client.get("/greet/ada").json() == {"message": "Hello, ada!"}


def test_platform_paths_still_work(client):
    assert client.get("/_joule/health").json() == {"status": "ok"}
    admin = client.get("/admin/")
    assert admin.status_code == 302 and admin.headers["Location"].startswith(
        "/admin/login/"
    )


@pytest.mark.parametrize("make", [platform_client, asgi_client])
@pytest.mark.parametrize(
    ("path", "twin"),
    [
        ("/products/products", "/products/products/"),
        ("/orders/orderItems", "/orders/orderItems/"),
        ("/hello/greet/ada", "/hello/greet/ada/"),
        ("/greet/ada", "/greet/ada/"),  # the entrypoint at the root
        ("/hello", "/hello/"),
        ("/openapi.json", "/openapi.json/"),
    ],
)
def test_paths_answer_the_same_with_and_without_a_final_slash(make, path, twin):
    with make() as client:
        first, second = client.get(path), client.get(twin)
    assert first.status_code == second.status_code == 200, (first.text, second.text)
    if path.startswith("/openapi"):
        assert first.json()["paths"] == second.json()["paths"]
    elif "hello" not in path:  # hello's answer carries the request id
        assert first.json() == second.json()


def test_a_slash_twin_is_served_in_place_for_writes_too(client):
    for path in ("/orders/customers", "/orders/customers/"):
        email = f"{len(path)}@x.org"
        response = client.post(path, json={"email": email, "name": "N"})
        assert response.status_code == 201, response.text


def test_paths_without_a_twin_stay_json_404s(client):
    for path in ("/hello/no/such/", "/hello/no/such", "/products/nothing/"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["code"] == "NOT_FOUND"


def test_admin_without_slash_redirects_once(client):
    response = client.get("/admin")
    assert response.status_code == 301
    assert response.headers["Location"] == "/admin/"
    login = client.get("/admin/auth/user")  # admin's own rules: to the login
    assert login.status_code == 302
    assert login.headers["Location"].startswith("/admin/login/")
