"""A column type registered once in ``fieldtypes`` reaches every generated API.

The test registers ``InetField`` for columns declared ``INET`` (with its own
parser, operators, OpenAPI schema and GraphQL scalar) and nothing else; the
db service "shop" then filters, documents and serves such a column in REST,
in its OpenAPI document and in GraphQL. SQLite keeps the declared type
name; PostgreSQL has a real ``inet`` type, found by name in ``pg_type``.
"""

from __future__ import annotations

import ipaddress

import graphene
import pytest
from django.db import connections, models

from platform_core.db.connections import alias_for
from platform_core.fieldtypes import EQUALITY_OPERATORS, FieldType, Invalid, fieldtypes
from platform_core.testing import asgi_client, platform_client


class InetField(models.GenericIPAddressField):
    """An IP address column."""


class IPAddress(graphene.String):
    """An IPv4 or IPv6 address."""


def parse_address(value, from_text):
    """Return the address in its normal form ("::1", "10.0.0.1")."""
    if isinstance(value, str):
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            pass
    raise Invalid("an IP address")


INET = FieldType(
    parse_address,
    {"type": "string", "format": "ip"},
    output=IPAddress,
    operators=EQUALITY_OPERATORS,
)
KEY = {"sqlite": "INTEGER PRIMARY KEY", "postgresql": "SERIAL PRIMARY KEY"}
HOSTS = [
    {"name": "a", "address": "10.0.0.1"},
    {"name": "b", "address": "10.0.0.2"},
    {"name": "c", "address": "::1"},
]


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request):
    """SQLite (the declared type's name) and PostgreSQL (a real inet type)."""
    return request.param


@pytest.fixture
def inet():
    """InetField in the default table, for columns declared INET."""
    with fieldtypes.register_temporarily(InetField, INET, db_types=("inet",)):
        yield INET
    assert fieldtypes.column_field_type("inet") is None


@pytest.fixture
def shop(inet, db_service, engine):
    """A client on the "shop" service, with hosts whose address is INET."""
    connection = connections[alias_for(db_service)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE hosts (id {KEY[engine]}, name VARCHAR(10) NOT NULL, "
            "address INET)"
        )
    with platform_client(base_url="http://testserver/shop") as client:
        assert client.post("/hosts", json=HOSTS).status_code == 201
        yield client


def names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(row["name"] for row in response.json())


def error(response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["code"], body["message"]


def test_rest_filters_offer_the_registered_operators(shop):
    assert names(shop.get("/hosts?where.address.eq=10.0.0.2")) == ["b"]
    assert names(shop.get("/hosts?where.address.in=10.0.0.1,::1")) == ["a", "c"]
    assert names(shop.get("/hosts?where.address.neq=10.0.0.1")) == ["b", "c"]
    with asgi_client(base_url="http://testserver/shop") as fast:
        assert names(fast.get("/hosts?where.address.eq=10.0.0.2")) == ["b"]


def test_rest_refuses_other_operators_and_values(shop):
    assert error(shop.get("/hosts?where.address.gt=10.0.0.1")) == (
        400,
        "UNKNOWN_OPERATOR",
        'Operator "gt" does not apply to "address". '
        "Operators: eq, neq, in, nin, isNull.",
    )
    assert error(shop.get("/hosts?where.address.like=10.%25")) == (
        400,
        "UNKNOWN_OPERATOR",
        '"like" works on text fields; "address" is not one',
    )
    assert error(shop.get("/hosts?where.address.eq=nope")) == (
        400,
        "INVALID_VALUE",
        "Invalid value 'nope' for \"address\" in where: expected an IP address",
    )
    assert error(shop.post("/hosts", json={"name": "d", "address": "1.2.3"})) == (
        400,
        "INVALID_VALUE",
        "Invalid value '1.2.3' for \"address\" in body: expected an IP address",
    )


def test_openapi_documents_the_schema_and_the_operators(shop):
    document = shop.get("/openapi.json", headers={"Accept": "application/json"})
    assert document.status_code == 200, document.text
    document = document.json()
    host = document["components"]["schemas"]["Host"]["properties"]["address"]
    assert host == {"type": "string", "format": "ip", "nullable": True}
    listing = next(
        operation["get"]
        for path, operation in document["paths"].items()
        if path.endswith("/hosts")
    )
    filters = {
        p["name"]
        for p in listing["parameters"]
        if p["name"].startswith("where.address")
    }
    assert filters == {f"where.address.{op}" for op in EQUALITY_OPERATORS}


def graphql(client, query: str) -> dict:
    return client.post("/graphql", json={"query": query}).json()


def test_graphql_has_the_scalar_and_only_the_registered_operators(shop):
    found = graphql(
        shop, '{ hosts(where: {address: {in: ["10.0.0.1", "::1"]}}) { name address } }'
    )
    assert found == {
        "data": {
            "hosts": [
                {"name": "a", "address": "10.0.0.1"},
                {"name": "c", "address": "::1"},
            ]
        }
    }
    types = graphql(
        shop,
        '{ host: __type(name: "Host") { fields { name type { name } } } '
        'where: __type(name: "IPAddressWhere") { inputFields { name } } }',
    )["data"]
    assert {"name": "address", "type": {"name": "IPAddress"}} in types["host"]["fields"]
    assert [f["name"] for f in types["where"]["inputFields"]] == list(
        EQUALITY_OPERATORS
    )
    refused = graphql(shop, '{ hosts(where: {address: {eq: "nope"}}) { name } }')
    assert "expected an IP address" in refused["errors"][0]["message"]
