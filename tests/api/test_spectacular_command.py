"""drf-spectacular's own command validates the generated API with no warning."""

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_spectacular_validates_every_db_service_without_warnings(tmp_path):
    target = tmp_path / "openapi.yml"
    call_command(
        "spectacular",
        "--urlconf",
        "platform_core.rest.document_urls",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(target),
    )
    document = yaml.safe_load(target.read_text())
    assert {
        "/products/products",
        "/products/products/{id}",
        "/orders/orderItems/order/{orderId}/productId/{productId}",
        "/orders/customers/{id}/orders",
    } <= set(document["paths"])
