"""Test helpers shipped as API: temporary services, projects, schemas of tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from platform_core.config.types import ServiceSpec
from platform_core.db.tables import Column, Table
from platform_core.registry import ServiceRegistry
from platform_core.testing import project_of, register_temporarily, schema_of


def spec(service_id: str, prefix: str | None = None) -> ServiceSpec:
    return ServiceSpec(
        service_id,
        "service",
        prefix or f"/{service_id}",
        Path("services") / service_id,
        f"services.{service_id}",
    )


def registry(*specs: ServiceSpec, entrypoint: ServiceSpec | None = None):
    fresh = ServiceRegistry()
    for item in specs:
        fresh.register(item, entrypoint=item is entrypoint)
    return fresh


def test_a_temporary_service_is_registered_for_the_block_only():
    services = registry(spec("hello"))
    with register_temporarily(spec("shop"), services) as shop:
        assert services.get("shop") is shop
        assert services.match("/shop/posts").spec is shop
    assert [s.id for s in services] == ["hello"]


@pytest.mark.parametrize(
    "theirs", [spec("catalog"), spec("catalog", "/shop"), spec("shop", "/catalog")]
)
def test_a_project_service_of_the_same_id_or_prefix_is_set_aside(theirs):
    hello = spec("hello")
    services = registry(hello, theirs, entrypoint=hello)
    ours = spec("catalog")
    with register_temporarily(ours, services):
        assert [s.id for s in services] == ["hello", "catalog"]
        assert services.match("/catalog/").spec is ours
    assert [s.id for s in services] == ["hello", theirs.id]
    assert services.get(theirs.id) is theirs
    assert services.entrypoint is hello


def test_a_set_aside_entrypoint_is_the_entrypoint_again_after():
    theirs = spec("catalog")
    services = registry(theirs, entrypoint=theirs)
    with register_temporarily(spec("catalog"), services):
        assert services.entrypoint is None
    assert services.entrypoint is theirs


def test_the_set_aside_service_comes_back_when_the_block_fails():
    theirs = spec("catalog")
    services = registry(theirs)
    with pytest.raises(RuntimeError), register_temporarily(spec("catalog"), services):
        raise RuntimeError("the test failed")
    assert services.get("catalog") is theirs


def test_project_of_links_only_the_named_services(tmp_path):
    source = tmp_path / "source" / "services"
    for name in ("products", "orders", "catalog"):
        (source / name).mkdir(parents=True)
    root = project_of(tmp_path, source, ["products"], level="INFO")
    assert sorted(p.name for p in (root / "services").iterdir()) == ["products"]
    assert (root / "services" / "products").resolve() == source / "products"
    assert 'level = "INFO"' in (root / "joule.toml").read_text()


def test_schema_of_builds_entities_without_a_database():
    table = Table(
        "blog_posts",
        False,
        (
            Column("id", "AutoField", False, auto=True),
            Column("owner_id", "IntegerField", True),
        ),
        ("id",),
        (),
        (),
    )
    info = schema_of(table).entities["blogPost"]
    assert (info.plural, info.primary_key) == ("blogPosts", ("id",))
    assert info.fields["ownerId"].column == "owner_id"
    assert info.model._meta.managed is False
    assert info.model._meta.db_table == "blog_posts"
