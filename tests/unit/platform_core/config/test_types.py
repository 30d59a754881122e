"""Service specs: equal specs are interchangeable as keys."""

import dataclasses
from pathlib import Path

from platform_core.config.types import ServiceSpec


def spec(**changes) -> ServiceSpec:
    base = ServiceSpec("shop", "db", "/shop", Path("services/shop"), "services.shop")
    return dataclasses.replace(base, **changes)


def test_equal_specs_find_the_same_entry_and_changed_ones_do_not():
    table = {spec(): "built"}
    assert table[spec()] == "built"  # an equal spec, hashed once more
    assert hash(spec()) == hash(spec())
    assert spec(prefix="/store") not in table
    assert spec(options=("x",)) not in table
