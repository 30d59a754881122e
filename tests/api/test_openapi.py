"""OpenAPI and Swagger UI of the example db services; schemathesis over /products.

The services' tables come from their SQL migrations, applied when the test
database is created.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import schemathesis
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.db import connection
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, settings

import platform_core.wsgi
from platform_core.entities.where import SCALAR_OPERATORS
from platform_core.testing import platform_client

ROOT = Path(__file__).resolve().parents[2]
ACCEPT_JSON = {"Accept": "application/json"}
TEXT_FIELDS = {"sku", "title", "description"}
JSON_OPENAPI = "application/vnd.oai.openapi+json"  # OpenAPI's JSON media type
ERROR = {"$ref": "#/components/schemas/Error"}
PATHS = {
    "/products": {
        "/categories": {"get", "post", "put", "delete"},
        "/categories/{id}": {"get", "put", "patch", "delete"},
        "/categories/{id}/products": {"get"},
        "/products": {"get", "post", "put", "delete"},
        "/products/{id}": {"get", "put", "patch", "delete"},
        "/products/{id}/category": {"get"},
    },
    "/orders": {
        "/customers": {"get", "post", "put", "delete"},
        "/customers/{id}": {"get", "put", "patch", "delete"},
        "/customers/{id}/orders": {"get"},
        "/orders": {"get", "post", "put", "delete"},
        "/orders/{id}": {"get", "put", "patch", "delete"},
        "/orders/{id}/customer": {"get"},
        "/orders/{id}/orderItems": {"get"},
        "/orderItems": {"get", "post", "put", "delete"},
        "/orderItems/order/{orderId}/productId/{productId}": {
            "get",
            "put",
            "patch",
            "delete",
        },
        "/orderItems/order/{orderId}/productId/{productId}/order": {"get"},
    },
}
PRODUCT_FIELDS = [
    "id",
    "sku",
    "title",
    "description",
    "price",
    "stock",
    "categoryId",
    "createdAt",
    "updatedAt",
]


@pytest.fixture
def client():
    with platform_client() as client:
        yield client


def openapi(client, prefix: str) -> dict:
    response = client.get(f"{prefix}/openapi.json", headers=ACCEPT_JSON)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"  # as asked
    return response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("prefix", ["/products", "/orders"])
def test_openapi_document_is_valid_with_a_path_per_route(client, prefix):
    document = openapi(client, prefix)
    validate_schema(document)
    assert document["servers"] == [{"url": prefix}]
    paths = {path: set(item) for path, item in document["paths"].items()}
    assert paths == PATHS[prefix]


@pytest.mark.django_db
def test_openapi_json_is_json_without_an_accept_header(client):
    response = client.get("/products/openapi.json")
    assert response.headers["Content-Type"] == JSON_OPENAPI
    assert response.json()["openapi"].startswith("3.")


@pytest.mark.django_db
def test_products_components_describe_rows_inserts_patches_and_errors(client):
    schemas = openapi(client, "/products")["components"]["schemas"]
    assert set(schemas) == {
        *("Product", "ProductInput", "ProductPatch"),
        *("Category", "CategoryInput", "CategoryPatch"),
        "Error",
    }
    product, insert, patch = (
        schemas[name] for name in ("Product", "ProductInput", "ProductPatch")
    )
    assert list(product["properties"]) == PRODUCT_FIELDS
    assert "required" not in product  # fields= may leave any of them out
    assert product["properties"]["price"]["format"] == "decimal"
    assert product["properties"]["categoryId"] == {
        "type": "integer",
        "format": "int64",  # the test database is SQLite: 64-bit integers
        "nullable": True,
        "minimum": -(2**63),
        "maximum": 2**63 - 1,
    }
    assert product["properties"]["sku"] == {
        "type": "string",
        "maxLength": 32,
        "pattern": "^[^\\u0000]*$",  # NUL is refused
    }
    writable = [name for name in PRODUCT_FIELDS if not name.endswith("At")]
    assert list(insert["properties"]) == writable
    assert list(patch["properties"]) == writable[1:]  # the key is in the path
    assert insert["required"] == ["sku", "title", "price"]  # NOT NULL, no default
    assert "required" not in patch
    assert insert["additionalProperties"] is patch["additionalProperties"] is False
    assert schemas["Error"]["required"] == ["statusCode", "code", "error", "message"]
    assert "required" not in schemas["Category"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/products", "/categories/{id}/products"])
def test_list_operations_document_every_filter_order_and_page_parameter(client, path):
    operation = openapi(client, "/products")["paths"][path]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    for field in PRODUCT_FIELDS:
        assert parameters[f"orderby.{field}"]["schema"]["enum"] == ["asc", "desc"]
        for op in SCALAR_OPERATORS:
            if op in ("like", "ilike") and field not in TEXT_FIELDS:
                assert f"where.{field}.{op}" not in parameters  # text only
                continue
            assert parameters[f"where.{field}.{op}"]["in"] == "query"
    assert parameters["where.price.gt"]["schema"]["format"] == "decimal"
    assert parameters["where.stock.isNull"]["schema"] == {"type": "boolean"}
    in_list = parameters["where.id.in"]["schema"]  # where.id.in=1,2
    assert in_list["type"] == "string"
    assert re.fullmatch(in_list["pattern"], "1,-2")
    limit = parameters["limit"]["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (0, 100, 10)
    names = {"where.or", "fields", "offset", "totalCount", "cursor"}
    assert names | {"startAfter", "endBefore"} <= set(parameters)
    assert {"X-Total-Count", "X-Start-After", "X-End-Before"} == set(
        operation["responses"]["200"]["headers"]
    )


@pytest.mark.django_db
@pytest.mark.parametrize("prefix", ["/products", "/orders"])
def test_every_operation_documents_its_error_responses(client, prefix):
    for path, item in openapi(client, prefix)["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            for status in ("400", "403", "404", "409", "413", "415"):
                schema = responses[status]["content"]["application/json"]["schema"]
                assert schema == ERROR, (method, path, status)
            success = {"post": {"201"}, "put": {"200", "201"}}.get(method, {"200"})
            if "{" not in path and method == "put":
                success = {"200"}  # update by where
            assert {s for s in responses if s < "300"} == success, (method, path)


@pytest.mark.django_db
def test_write_operations_take_the_input_and_patch_schemas(client):
    paths = openapi(client, "/products")["paths"]
    ref = "#/components/schemas/Product{}"

    def body(path, method):
        return paths[path][method]["requestBody"]["content"]["application/json"]

    one = {"$ref": ref.format("Input")}
    assert body("/products", "post")["schema"] == {
        "oneOf": [one, {"type": "array", "items": one, "minItems": 1}]
    }
    assert body("/products/{id}", "put")["schema"] == one
    assert body("/products/{id}", "patch")["schema"] == {"$ref": ref.format("Patch")}
    assert body("/products", "put")["schema"] == {"$ref": ref.format("Patch")}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/products/docs", "/products/docs/"])
def test_docs_serve_swagger_ui_with_locally_served_assets(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    html = response.text
    assert "SwaggerUIBundle" in html and 'url: "/products/openapi.json"' in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {a.rsplit("/", 1)[1] for a in assets} == {
        "favicon-32x32.png",
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
    }
    assert not re.search(r"https?:|cdn|unpkg", html)  # nothing from a CDN
    for asset in assets:
        assert asset.startswith("/static/drf_spectacular_sidecar/swagger-ui-dist/")
        assert finders.find(asset.removeprefix("/static/")), asset  # staticfiles


@pytest.mark.django_db
def test_swagger_ui_assets_are_served_by_the_platform(client):
    url = "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
    assert client.get(url).status_code == 200


# schemathesis: every operation of /products, bounded for CI


@pytest.fixture
def products_schema(request, transactional_db):
    """The /products OpenAPI document loaded over WSGI, on seeded tables.

    Committed rows (the app under test runs outside the test transaction) are
    deleted afterwards: flush leaves the services' unmanaged tables alone.
    """
    # schemathesis 4.32 renames request.node._nodeid, which pytest 9 lacks.
    request.node._nodeid = request.node.nodeid
    seeds = ROOT / "services/products/seeds/catalogue.json"
    call_command("dbseed", "products", str(seeds))
    yield schemathesis.openapi.from_wsgi(
        "/products/openapi.json", platform_core.wsgi.application, headers=ACCEPT_JSON
    )
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM products")
        cursor.execute("DELETE FROM categories")


schema = schemathesis.pytest.from_fixture("products_schema")
# What the issue asks of the API: no server error, and no response that
# contradicts the document (status codes, content types, headers, bodies).
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
]


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_products_api_conforms_to_its_openapi_document(case):
    case.call_and_validate(checks=CHECKS)
