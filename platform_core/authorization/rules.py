"""Authorization rules of a db service, read from ``[authorization]``.

The first rule, in order, that names the entity and one of the caller's
roles decides; an operation a rule does not grant is denied::

    [[authorization.rules]]
    role = "user"
    entity = "post"                      # or entities = [...], or "*"
    find = true                          # true | false | conditions | {checks, fields}
    save = ["ownerId = $USER_ID"]
    delete = { checks = { ownerId = "USER_ID" } }
    defaults = { ownerId = "$USER_ID" }  # forced on insert
    fields = ["id", "title", "ownerId"]  # the only columns the role sees

    rule = find_rule(options.rules, identity.roles, "post")
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from platform_core.config.authorization import (  # noqa: F401
    ADMIN_ROLE,
    DENIED,
    OPERATIONS,
    AuthorizationOptions,
    JwtOptions,
    Permission,
    Rule,
    read_authorization,
    rule_from_table,
)
from platform_core.exceptions import ConfigError, did_you_mean
from platform_core.introspection import ModelInfo


def find_rule(rules: tuple[Rule, ...], roles, entity: str) -> Rule | None:
    """Return the first rule naming ``entity`` and one of ``roles``."""
    for rule in rules:
        if rule.role in roles and rule.names(entity):
            return rule
    return None


@dataclass(frozen=True)
class UnknownName:
    """A name a rule uses that the service's tables do not have."""

    # what: "entity" or "field".
    what: str
    # message: names the rule's file and key path, with "Did you mean".
    message: str
    # choices: the names the rule could have used instead.
    choices: tuple[str, ...]


def unknown_names(
    options: AuthorizationOptions, entities: dict[str, ModelInfo], service: str
) -> Iterator[UnknownName]:
    """Yield each entity or field the rules name that ``entities`` lack.

    Rules are taken in order; within one, its unknown entities come first,
    then the unknown fields of its known entities.
    """
    for rule in options.rules:
        for name in rule.entities:
            if name != "*" and name not in entities:
                yield UnknownName(
                    "entity",
                    f"{rule.source}: no entity '{name}' in service '{service}'."
                    + did_you_mean(name, entities),
                    tuple(entities),
                )
        named = entities if "*" in rule.entities else rule.entities
        for name in named:
            if name in entities:
                yield from _unknown_fields(rule, entities[name])


def check_rules(
    options: AuthorizationOptions, entities: dict[str, ModelInfo], service: str
) -> None:
    """Raise ConfigError for the first rule naming an unknown entity or field."""
    first = next(unknown_names(options, entities, service), None)
    if first is not None:
        raise ConfigError(first.message)


def _unknown_fields(rule: Rule, info: ModelInfo) -> Iterator[UnknownName]:
    used = [
        *(rule.fields or ()),
        *(name for name, _, _ in rule.defaults),
        *(
            name
            for op in OPERATIONS
            for name in (
                *(c.field for c in rule.permission(op).conditions),
                *(rule.permission(op).fields or ()),
            )
        ),
    ]
    for name in dict.fromkeys(used):
        if name not in info.fields:
            yield UnknownName(
                "field",
                f"{rule.source}: no field '{name}' in entity '{info.entity}'."
                + did_you_mean(name, info.fields),
                tuple(info.fields),
            )
