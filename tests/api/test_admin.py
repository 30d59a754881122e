"""Django admin lists, searches and edits every entity of every db service."""

from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command

from platform_core.db.schema import get_schema
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


def test_every_single_key_entity_is_registered(admin_client):
    admin_client.get("/admin/")
    for info in entities():
        assert admin.site.is_registered(info.model) == (len(info.primary_key) == 1)


@pytest.mark.parametrize("suffix", ["", "?q=a", "add/", "1/change/"])
def test_admin_pages_render_for_every_entity(admin_client, seeded, suffix):
    admin_client.get("/admin/")
    for info in entities():
        if len(info.primary_key) != 1:
            continue
        url = f"/admin/{info.model._meta.app_label}/{info.model._meta.model_name}/"
        response = admin_client.get(url + suffix)
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
