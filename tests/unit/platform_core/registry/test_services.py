"""ServiceRegistry: registration, look-up and the prefix routing table."""

from __future__ import annotations

from pathlib import Path

import pytest

from platform_core.config.types import ServiceSpec
from platform_core.exceptions import AlreadyRegistered, NotRegistered, ServiceNotFound
from platform_core.registry import Route, ServiceRegistry, is_platform_path


def spec(service_id: str, prefix: str | None = None) -> ServiceSpec:
    """Return a ``service`` spec, mounted at ``/<id>`` unless told otherwise."""
    return ServiceSpec(
        id=service_id,
        kind="service",
        prefix=prefix or f"/{service_id}",
        folder=Path("services") / service_id,
        module=f"services.{service_id}",
    )


def registry(*specs: ServiceSpec, entrypoint: ServiceSpec | None = None):
    """Return a fresh registry holding ``specs`` (and the entrypoint)."""
    fresh = ServiceRegistry()
    for item in specs:
        fresh.register(item)
    if entrypoint is not None:
        fresh.register(entrypoint, entrypoint=True)
    return fresh


# Registration


def test_registered_service_can_be_got_by_id():
    orders = spec("orders")
    services = registry()
    assert services.register(orders) is orders
    assert services.is_registered("orders")
    assert services.get("orders") is orders
    assert list(services) == [orders]
    assert len(services) == 1


def test_duplicate_id_is_refused():
    services = registry(spec("orders"))
    with pytest.raises(
        AlreadyRegistered, match="The service 'orders' is already registered."
    ):
        services.register(spec("orders", "/other"))


def test_duplicate_prefix_is_refused_naming_the_holder():
    services = registry(spec("orders", "/shop"))
    with pytest.raises(
        AlreadyRegistered,
        match="The prefix '/shop' is already used by the service 'orders'.",
    ):
        services.register(spec("carts", "/shop"))
    assert not services.is_registered("carts")


def test_unknown_service_suggests_the_nearest():
    services = registry(spec("orders"), spec("carts"))
    with pytest.raises(
        ServiceNotFound,
        match=r"No service 'order'\. Services: orders, carts\. "
        r"Did you mean 'orders'\?",
    ):
        services.get("order")


def test_unknown_service_in_empty_registry_says_none():
    pattern = r"No service 'orders'\. Services: none\.$"
    with pytest.raises(ServiceNotFound, match=pattern):
        registry().get("orders")


def test_service_not_found_is_a_not_registered_and_a_lookup_error():
    with pytest.raises(NotRegistered):
        registry().get("orders")
    with pytest.raises(LookupError):
        registry().get("orders")


def test_unregistered_service_is_gone_with_its_prefix():
    services = registry(spec("orders"))
    services.unregister("orders")
    assert not services.is_registered("orders")
    assert services.match("/orders/1") is None
    services.register(spec("carts", "/orders"))


def test_unregistering_an_unknown_service_is_refused():
    with pytest.raises(NotRegistered, match="No service 'orders'"):
        registry().unregister("orders")


def test_unregistering_the_entrypoint_clears_it():
    home = spec("home")
    services = registry(entrypoint=home)
    assert services.entrypoint is home
    services.unregister("home")
    assert services.entrypoint is None
    assert services.match("/anything") is None


def test_clear_unregisters_everything():
    services = registry(spec("orders"), entrypoint=spec("home"))
    services.clear()
    assert len(services) == 0
    assert services.entrypoint is None


def test_fresh_registries_share_nothing():
    registry(spec("orders"))
    assert not ServiceRegistry().is_registered("orders")


# Routing


def test_exact_prefix_matches():
    orders = spec("orders")
    assert registry(orders).match("/orders") == Route(orders, "/orders")


def test_path_under_prefix_matches():
    orders = spec("orders")
    assert registry(orders).match("/orders/items/1") == Route(orders, "/orders")
    assert registry(orders).match("/orders/") == Route(orders, "/orders")


def test_longest_prefix_wins_whatever_the_order():
    outer, inner = spec("outer", "/a"), spec("inner", "/a/b")
    for services in (registry(outer, inner), registry(inner, outer)):
        assert services.match("/a/b/c") == Route(inner, "/a/b")
        assert services.match("/a/b") == Route(inner, "/a/b")
        assert services.match("/a/c") == Route(outer, "/a")
        assert services.match("/a/bc") == Route(outer, "/a")


def test_prefix_matches_only_at_a_segment_boundary():
    assert registry(spec("a", "/a")).match("/ab") is None


def test_unmatched_path_goes_to_the_entrypoint_with_empty_prefix():
    home = spec("home")
    services = registry(spec("a", "/a"), entrypoint=home)
    assert services.match("/") == Route(home, "")
    assert services.match("/ab") == Route(home, "")
    assert services.match("/a/x") == Route(services.get("a"), "/a")


def test_entrypoint_keeps_its_own_prefix():
    home = spec("home")
    assert registry(entrypoint=home).match("/home/x") == Route(home, "/home")


@pytest.mark.parametrize(
    "path", ["/_joule/health", "/_joule", "/admin/", "/admin", "/static/a.css"]
)
def test_platform_paths_never_go_to_the_entrypoint(path):
    assert is_platform_path(path)
    assert registry(entrypoint=spec("home")).match(path) is None


def test_path_only_starting_like_a_platform_path_goes_to_the_entrypoint():
    home = spec("home")
    assert not is_platform_path("/administration")
    assert registry(entrypoint=home).match("/administration") == Route(home, "")


def test_unmatched_path_without_entrypoint_is_none():
    assert registry(spec("orders")).match("/") is None
    assert registry().match("/orders") is None


def test_route_to_uses_the_service_prefix():
    orders = spec("orders", "/shop")
    assert registry(orders).route_to("orders") == Route(orders, "/shop")
    with pytest.raises(ServiceNotFound, match="No service 'nope'"):
        registry(orders).route_to("nope")
