"""Entity, plural, field and relation names derived from tables and columns."""

from __future__ import annotations

import pytest

from platform_core import naming


@pytest.mark.parametrize(
    ("table", "entity"),
    [
        ("order_items", "orderItem"),
        ("OrderItems", "orderItem"),
        ("InvoiceLine", "invoiceLine"),
        ("people", "person"),
        ("categories", "category"),
        ("statuses", "status"),
        ("posts_categories", "postsCategory"),
        ("addresses", "address"),
        ("boxes", "box"),
        ("news", "news"),
        ("owners", "owner"),
    ],
)
def test_entity_is_the_singular_camel_case_of_the_table(table, entity):
    assert naming.entity_name(table) == entity


@pytest.mark.parametrize(
    ("entity", "plural"),
    [
        ("orderItem", "orderItems"),
        ("invoiceLine", "invoiceLines"),
        ("person", "people"),
        ("category", "categories"),
        ("status", "statuses"),
        ("postsCategory", "postsCategories"),
        ("address", "addresses"),
        ("day", "days"),
        ("news", "news"),
    ],
)
def test_plural_pluralizes_the_last_word(entity, plural):
    assert naming.plural_name(entity) == plural


@pytest.mark.parametrize(
    "table", ["order_items", "people", "categories", "statuses", "InvoiceLines"]
)
def test_plural_of_the_entity_of_a_plural_table_is_the_table_in_camel_case(table):
    assert naming.plural_name(naming.entity_name(table)) == naming.camel(table)


@pytest.mark.parametrize(
    ("column", "field"),
    [
        ("AlbumId", "albumId"),
        ("owner_id", "ownerId"),
        ("ReportsTo", "reportsTo"),
        ("title", "title"),
        ("created_at", "createdAt"),
        ("ID", "id"),
        ("HTTPStatus", "httpStatus"),
    ],
)
def test_field_is_the_column_in_camel_case(column, field):
    assert naming.camel(column) == field


@pytest.mark.parametrize(
    ("column", "relation"),
    [
        ("owner_id", "owner"),
        ("SupportRepId", "supportRep"),
        ("AlbumId", "album"),
        ("ReportsTo", "reportsTo"),
        ("parent", "parent"),
        ("id", "id"),
    ],
)
def test_relation_is_the_column_without_its_id_suffix(column, relation):
    assert naming.relation_name(column) == relation


def test_pascal_names_the_model_class():
    assert naming.pascal("orderItem") == "OrderItem"
    assert naming.pascal("order_items") == "OrderItems"


def test_service_ids_taken_by_installed_apps_get_a_suffixed_label():
    assert naming.app_label("auth") == "auth_service"
    assert naming.app_label("legacy-express") == "legacy_express"
    assert naming.app_label("orders") == "orders"
