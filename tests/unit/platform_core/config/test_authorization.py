"""``[authorization]`` of a db service: rules and their conditions, parsed.

Every mistake is a ConfigError naming the file and key; see
``authorization/test_conditions.py`` for what the conditions then select.
"""

from __future__ import annotations

import re
import tomllib

import pytest

from platform_core.config.authorization import (
    Condition,
    Permission,
    parse_checks,
    parse_condition,
    read_authorization,
)
from platform_core.config.reader import TableReader
from platform_core.exceptions import ConfigError

FILE = "services/shop/service.toml"
WHERE = f"{FILE}: authorization.rules[0].save"
NOT_A_CONDITION = (
    'is not a condition like "ownerId = $USER_ID" (operators: = != > >= < <= in nin)'
)


def read(toml: str):
    return read_authorization(TableReader(tomllib.loads(toml), FILE))


def refused(message: str):
    """Expect a ConfigError saying exactly ``message``."""
    return pytest.raises(ConfigError, match=f"^{re.escape(message)}$")


@pytest.mark.parametrize(
    ("text", "condition"),
    [
        ("ownerId = $USER_ID", Condition("ownerId", "eq", claim="USER_ID")),
        ("ownerId=$user_id", Condition("ownerId", "eq", claim="USER_ID")),
        ("ownerId = $x-joule-user-id", Condition("ownerId", "eq", claim="USER_ID")),
        ("status != 'archived'", Condition("status", "neq", literal="archived")),
        ('status = "a b"', Condition("status", "eq", literal="a b")),
        ("counter >= 10", Condition("counter", "gte", literal=10)),
        ("counter > -3", Condition("counter", "gt", literal=-3)),
        ("price < 9.5", Condition("price", "lt", literal=9.5)),
        ("price <= 0", Condition("price", "lte", literal=0)),
        ("published = true", Condition("published", "eq", literal=True)),
        ("published != false", Condition("published", "neq", literal=False)),
        ("ownerId in $OWNER_IDS", Condition("ownerId", "in", claim="OWNER_IDS")),
        ("status nin 'a,b'", Condition("status", "nin", literal="a,b")),
    ],
)
def test_a_condition_compares_a_field_with_a_claim_or_a_literal(text, condition):
    assert parse_condition(text, WHERE) == condition


@pytest.mark.parametrize("text", ["owner id = 1", "= 1", "ownerId =", "ownerId", 5])
def test_text_that_is_not_field_op_value_is_refused(text):
    with refused(f"{WHERE}: {text!r} {NOT_A_CONDITION}"):
        parse_condition(text, WHERE)


@pytest.mark.parametrize("value", ["USER_ID", "archived", "$", "1.2.3"])
def test_a_value_must_be_a_claim_a_number_or_a_quoted_string(value):
    with refused(
        f"{WHERE}: {value!r} is neither a claim ($NAME), a number nor a quoted string"
    ):
        parse_condition(f"status = {value}", WHERE)


@pytest.mark.parametrize("text", ["ownerId == 1", "ownerId <> 1", "ownerId =< 1"])
def test_an_unknown_operator_is_refused(text):
    with pytest.raises(ConfigError, match=f"^{re.escape(WHERE)}: "):
        parse_condition(text, WHERE)


@pytest.mark.parametrize(
    ("checks", "conditions"),
    [
        ({"ownerId": "USER_ID"}, [Condition("ownerId", "eq", claim="USER_ID")]),
        ({"ownerId": "$user-id"}, [Condition("ownerId", "eq", claim="USER_ID")]),
        (
            {"ownerId": {"eq": "USER_ID", "neq": "BANNED_ID"}},
            [
                Condition("ownerId", "eq", claim="USER_ID"),
                Condition("ownerId", "neq", claim="BANNED_ID"),
            ],
        ),
        ({"ownerId": {"in": "IDS"}}, [Condition("ownerId", "in", claim="IDS")]),
        ({"ownerId": {"nin": "IDS"}}, [Condition("ownerId", "nin", claim="IDS")]),
    ],
)
def test_checks_name_a_claim_per_field_eq_implied(checks, conditions):
    assert list(parse_checks(checks, "x")) == conditions


@pytest.mark.parametrize(
    ("checks", "message"),
    [
        ({}, "checks must be a table of field = claim"),
        ("ownerId = USER_ID", "checks must be a table of field = claim"),
        (
            {"ownerId": {"like": "X"}},
            "unknown operator 'like' for 'ownerId'; "
            "use one of eq, neq, gt, gte, lt, lte, in, nin",
        ),
        ({"ownerId": 1}, "ownerId.eq must name a claim"),
        ({"ownerId": {"gt": ""}}, "ownerId.gt must name a claim"),
    ],
)
def test_bad_checks_are_refused(checks, message):
    with refused(f"{WHERE}.checks: {message}"):
        parse_checks(checks, f"{WHERE}.checks")


def test_a_service_without_authorization_is_open():
    assert read("") is None


def test_a_rule_reads_every_permission_form():
    options = read(
        """
        [authorization]
        adminSecret = "s3cret"
        [[authorization.rules]]
        role = "user"
        entity = "post"
        find = true
        save = ["ownerId = $USER_ID", "status != 'archived'"]
        delete = { checks = { ownerId = "USER_ID" }, fields = ["id"] }
        defaults = { ownerId = "$USER_ID", status = "'draft'", counter = 0 }
        """
    )
    assert (options.admin_secret, options.role_claim, options.anonymous_role) == (
        "s3cret",
        "role",
        "anonymous",
    )
    (rule,) = options.rules
    assert (rule.role, rule.entities, rule.names("post"), rule.names("owner")) == (
        "user",
        ("post",),
        True,
        False,
    )
    assert rule.find == Permission(True)
    assert rule.save == Permission(
        True,
        (
            Condition("ownerId", "eq", claim="USER_ID"),
            Condition("status", "neq", literal="archived"),
        ),
    )
    assert rule.delete == Permission(
        True, (Condition("ownerId", "eq", claim="USER_ID"),), ("id",)
    )
    assert rule.defaults == (
        ("ownerId", "USER_ID", None),
        ("status", None, "draft"),
        ("counter", None, 0),
    )
    assert rule.source == f"{FILE}: authorization.rules[0]"


def test_an_operation_a_rule_does_not_name_is_denied():
    (rule,) = read(
        '[[authorization.rules]]\nrole = "reader"\nentities = ["*"]\nfind = true\n'
    ).rules
    assert rule.names("anything")
    assert not rule.permission("save").allowed
    assert not rule.permission("delete").allowed


RULE = '[[authorization.rules]]\nrole = "user"\n'


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (RULE, "authorization.rules[0].entity: give entity or entities"),
        (
            RULE + 'entity = "post"\nentities = ["post"]\n',
            "authorization.rules[0].entity: give entity or entities",
        ),
        (
            RULE + 'entity = "post"\nsave = "ownerId = USER"\n',
            "authorization.rules[0].save: 'USER' is neither a claim ($NAME), "
            "a number nor a quoted string",
        ),
        (
            RULE + 'entity = "post"\nfind = { check = { ownerId = "ID" } }\n',
            "authorization.rules[0].find: unknown key 'check'",
        ),
        (
            RULE
            + 'entity = "post"\nfind = { checks = { ownerId = { like = "X" } } }\n',
            "authorization.rules[0].find.checks: unknown operator 'like' for "
            "'ownerId'; use one of eq, neq, gt, gte, lt, lte, in, nin",
        ),
        (
            RULE + 'entity = "post"\ndefaults = { ownerId = "USER" }\n',
            "authorization.rules[0].defaults.ownerId: 'USER' is neither a claim "
            "($NAME), a number nor a quoted string",
        ),
        (
            RULE + 'entity = "post"\nfind = 3\n',
            "authorization.rules[0].find: expected true or false or a string "
            "or a list or a table, got 3",
        ),
        (
            RULE + 'entity = "post"\nfinds = true\n',
            "authorization.rules[0].finds: unknown key. Allowed keys here: role, "
            "entity, entities, find, save, delete, defaults, fields. "
            "Did you mean 'find'?",
        ),
    ],
)
def test_a_bad_rule_names_the_file_and_key(toml, message):
    with refused(f"{FILE}: {message}"):
        read(toml)
