"""``[db] idempotency``: on by default for a day, a ttl, or off."""

import tomllib

import pytest

from platform_core.config.reader import TableReader
from platform_core.config.services import read_db_options
from platform_core.exceptions import ConfigError


def ttl_of(toml: str):
    reader = TableReader(tomllib.loads(toml), "services/shop/service.toml")
    return read_db_options(reader, "shop").idempotency_ttl


@pytest.mark.parametrize(
    ("toml", "ttl"),
    [
        ("", 86400.0),
        ("[db]\nidempotency = true", 86400.0),
        ("[db]\nidempotency = false", None),
        ("[db]\nidempotency = { ttl = 60 }", 60.0),
        ("[db]\nidempotency = { enabled = false }", None),
    ],
)
def test_idempotency_ttl_is_read(toml, ttl):
    assert ttl_of(toml) == ttl


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[db]\nidempotency = { ttl = 0 }", "db.idempotency.ttl: must be more than 0"),
        ("[db]\nidempotency = { tll = 5 }", "Did you mean 'ttl'?"),
        ('[db]\nidempotency = "yes"', "expected true or false or a table"),
    ],
)
def test_a_wrong_idempotency_value_says_how_to_fix_it(toml, message):
    with pytest.raises(ConfigError, match=message):
        ttl_of(toml)
