"""The composed GraphQL schema of several db services (the gateway's schema)."""

import contextlib

import pytest
from django.db import connections

from platform_core.db.connections import alias_for
from platform_core.entities import entities
from platform_core.exceptions import ConfigError
from platform_core.graphql.root import compose_schema, composed_schema
from platform_core.registry import services
from platform_core.testing import register_temporarily
from tests.databases import connection_alias, fresh_database
from tests.integration.conftest import make_db_service

TABLES = {
    "shop": [
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL)",
    ],
    "crm": [
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL)",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL,"
        " customer_id INTEGER REFERENCES customers (id))",
    ],
}


@pytest.fixture
def two_services(tmp_path, django_db_blocker):
    with contextlib.ExitStack() as stack:
        stack.enter_context(django_db_blocker.unblock())
        specs = []
        for service_id, statements in TABLES.items():
            url = stack.enter_context(fresh_database("sqlite", tmp_path / service_id))
            spec = make_db_service(tmp_path / service_id, url, service_id)
            stack.enter_context(connection_alias(alias_for(spec), url, tmp_path))
            with connections[alias_for(spec)].cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
            stack.enter_context(register_temporarily(spec))
            specs.append(spec)
        yield specs


def run(schema, query):
    result = schema.execute(query)
    assert not result.errors, result.errors
    return result.data


def test_colliding_entities_are_namespaced_by_service(two_services):
    schema = composed_schema(services)
    entities("shop")["customer"].insert([{"name": "Ada"}])
    entities("crm")["customer"].insert([{"email": "ada@example.org"}])
    entities("crm")["note"].insert([{"body": "call back", "customerId": 1}])
    entities("shop")["post"].insert([{"title": "Hello"}])
    data = run(
        schema,
        """{ shopCustomers { name } crmCustomers { email notes { body } }
        posts { title } notes { customer { email } }
        getShopCustomerById(id: 1) { name } countCrmCustomers { total } }""",
    )
    assert data == {
        "shopCustomers": [{"name": "Ada"}],
        "crmCustomers": [
            {"email": "ada@example.org", "notes": [{"body": "call back"}]}
        ],
        "posts": [{"title": "Hello"}],
        "notes": [{"customer": {"email": "ada@example.org"}}],
        "getShopCustomerById": {"name": "Ada"},
        "countCrmCustomers": {"total": 1},
    }
    saved = run(
        schema, 'mutation { saveCrmCustomer(input: {email: "b@x.org"}) { id } }'
    )
    assert saved == {"saveCrmCustomer": {"id": 2}}
    assert schema.subscription_events["shopCustomerSaved"] == "shop.customer.saved"
    assert schema.subscription_events["noteDeleted"] == "crm.note.deleted"
    type_names = set(schema.graphql_schema.type_map)
    assert {"ShopCustomer", "CrmCustomer", "Post", "Note"} <= type_names
    assert "Customer" not in type_names


def test_the_composed_schema_is_kept_until_a_schema_changes(two_services):
    from platform_core.db.catalog import forget_schema

    first = composed_schema(services)
    assert composed_schema(services) is first
    forget_schema("crm")
    assert composed_schema(services) is not first


def test_names_that_still_collide_after_namespacing_are_refused(two_services):
    crm = entities("crm")
    options = services.get("crm").options
    # The same service twice: even namespaced, both are crmCustomer.
    with pytest.raises(ConfigError, match="two entities named 'crmCustomer'"):
        compose_schema([(crm, options), (crm, options)])
