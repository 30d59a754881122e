"""Django admin lists, searches and edits every entity of every db service."""

from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command

from platform_core.db.catalog import get_schema
from platform_core.events import events
from platform_core.registry import services

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh_content_types():
    """Forget content types cached by earlier tests (their rows were rolled back)."""
    ContentType.objects.clear_cache()


@pytest.fixture
def seeded():
    call_command(
        "dbseed", "products", str(ROOT / "services/products/seeds/catalogue.json")
    )
    call_command("dbseed", "orders", str(ROOT / "services/orders/seeds/orders.json"))


def entities():
    for service in ("products", "orders"):
        yield from get_schema(services.get(service)).entities.values()


def test_every_entity_is_registered(admin_client):
    admin_client.get("/admin/")
    composite = [info for info in entities() if len(info.primary_key) > 1]
    assert [info.entity for info in composite] == ["orderItem"]
    for info in entities():
        assert admin.site.is_registered(info.model), info.entity


def first_row_url(info) -> str:
    """The admin path of an entity's first row (a composite key's JSON text)."""
    row = info.model.objects.order_by("pk").first()
    key = row._meta.pk.value_to_string(row)
    return f"{quote(key)}/"


@pytest.mark.parametrize(
    "suffix", ["", "?q=a", "add/", "{row}change/", "{row}history/", "{row}delete/"]
)
def test_admin_pages_render_for_every_entity(admin_client, seeded, suffix):
    admin_client.get("/admin/")
    for info in entities():
        url = f"/admin/{info.model._meta.app_label}/{info.model._meta.model_name}/"
        response = admin_client.get(url + suffix.format(row=first_row_url(info)))
        assert response.status_code == 200, url + suffix


def test_admin_edits_a_row_of_a_db_service(admin_client, seeded):
    response = admin_client.post(
        "/admin/products/category/1/change/", {"name": "Specialty coffee"}
    )
    assert response.status_code == 302
    rows = admin_client.get("/products/categories/1").json()
    assert rows["name"] == "Specialty coffee"


def test_changelist_searches_text_columns_and_filters_foreign_keys(
    admin_client, seeded
):
    page = admin_client.get("/admin/products/product/?q=sencha").content.decode()
    assert "Sencha 100 g" in page and "Assam" not in page
    page = admin_client.get("/admin/products/product/?category__id__exact=3").content
    assert b"V60 dripper" in page and b"Sencha" not in page


def test_admin_edits_publish_entity_events(
    admin_client, seeded, django_capture_on_commit_callbacks
):
    received = []

    def handler(event, row):
        received.append((event, row["id"], row.get("name")))

    events.register("*", handler)
    try:
        # Events go out after commit; the test's transaction never commits.
        with django_capture_on_commit_callbacks(execute=True):
            admin_client.post(
                "/admin/products/category/2/change/", {"name": "Green tea"}
            )
            admin_client.post("/admin/products/category/add/", {"name": "Cups"})
            admin_client.post("/admin/products/category/4/delete/", {"post": "yes"})
    finally:
        events.unregister("*", handler)
    assert received == [
        ("products.category.saved", 2, "Green tea"),
        ("products.category.saved", 4, "Cups"),
        ("products.category.deleted", 4, "Cups"),
    ]


ITEMS = "/admin/orders/orderitem/"


def test_composite_key_rows_are_linked_by_their_key_text(admin_client, seeded):
    page = admin_client.get(ITEMS).content.decode()
    assert f'href="{ITEMS}{quote("[1,3]")}/change/"' in page
    assert "action-checkbox" not in page  # no bulk actions on composite keys
    form = admin_client.get(f"{ITEMS}{quote('[1,3]')}/change/").content.decode()
    assert f'href="{ITEMS}{quote("[1,3]")}/delete/"' in form
    assert f'href="{ITEMS}{quote("[1,3]")}/history/"' in form


def test_admin_edits_adds_and_deletes_composite_key_rows(admin_client, seeded):
    change = f"{ITEMS}{quote('[1,3]')}/change/"
    # The key columns are read-only on a stored row: posting them moves nothing.
    data = {"order": "2", "productId": "9", "quantity": "4", "unitPrice": "9.50"}
    assert admin_client.post(change, data).status_code == 302
    item = admin_client.get("/orders/orderItems/order/1/productId/3").json()
    assert (item["quantity"], item["unitPrice"]) == (4, "9.50")
    assert admin_client.get("/orders/orderItems/order/2/productId/9").status_code == 404

    added = admin_client.post(f"{ITEMS}add/", {**data, "_continue": "1"})
    assert added.status_code == 302
    assert added.headers["Location"] == f"{ITEMS}{quote('[2,9]')}/change/"
    assert admin_client.get(added.headers["Location"]).status_code == 200
    assert admin_client.get("/orders/orderItems/order/2/productId/9").json() == {
        "orderId": 2,
        "productId": 9,
        "quantity": 4,
        "unitPrice": "9.50",
    }

    history = admin_client.get(f"{ITEMS}{quote('[1,3]')}/history/").content.decode()
    assert "Changed Quantity and UnitPrice." in history
    deleted = admin_client.post(f"{ITEMS}{quote('[2,9]')}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert admin_client.get("/orders/orderItems/order/2/productId/9").status_code == 404
    assert admin_client.get("/orders/orderItems/order/1/productId/1").status_code == 200


@pytest.mark.parametrize(
    "key", ["[1, 99]", "[1]", "[1, 3, 4]", "5", "x", '["a", 1]', "{}"]
)
def test_an_unknown_or_malformed_composite_key_is_not_found(admin_client, seeded, key):
    response = admin_client.get(f"{ITEMS}{quote(key)}/change/", follow=True)
    assert response.status_code == 200
    assert "doesn’t exist" in response.content.decode()


def test_admin_edits_of_composite_key_rows_publish_events(
    admin_client, seeded, django_capture_on_commit_callbacks
):
    received = []

    def handler(event, row):
        if event.startswith("orders.orderItem."):
            received.append(
                (event, row["orderId"], row["productId"], row.get("quantity"))
            )

    events.register("*", handler)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            admin_client.post(
                f"{ITEMS}{quote('[1,1]')}/change/",
                {"quantity": "3", "unitPrice": "12.50"},
            )
            admin_client.post(f"{ITEMS}{quote('[1,1]')}/delete/", {"post": "yes"})
    finally:
        events.unregister("*", handler)
    assert received == [
        ("orders.orderItem.saved", 1, 1, 3),
        ("orders.orderItem.deleted", 1, 1, 3),
    ]
