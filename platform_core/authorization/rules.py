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

from dataclasses import dataclass, field
from typing import Any

from platform_core.authorization.conditions import (
    Condition,
    _literal,
    parse_checks,
    parse_condition,
)
from platform_core.config.reader import TableReader
from platform_core.exceptions import ConfigError, did_you_mean
from platform_core.introspection import ModelInfo

ADMIN_ROLE = "platform-admin"
OPERATIONS = ("find", "save", "delete")


@dataclass(frozen=True)
class Permission:
    """What a rule grants for one operation."""

    allowed: bool
    conditions: tuple[Condition, ...] = ()
    # fields: the columns this operation may use (None: the rule's own).
    fields: tuple[str, ...] | None = None


DENIED = Permission(False)


@dataclass(frozen=True)
class Rule:
    """One ``[[authorization.rules]]`` entry."""

    role: str
    entities: tuple[str, ...]
    find: Permission = DENIED
    save: Permission = DENIED
    delete: Permission = DENIED
    # defaults: field -> Condition-like value ("$CLAIM" or a literal).
    defaults: tuple[tuple[str, str | None, Any], ...] = ()
    fields: tuple[str, ...] | None = None
    # source: where the rule was written, for messages.
    source: str = ""

    def names(self, entity: str) -> bool:
        """Return whether this rule is about ``entity``."""
        return "*" in self.entities or entity in self.entities

    def permission(self, operation: str) -> Permission:
        """Return the permission of ``operation`` ("find", "save", "delete")."""
        return getattr(self, operation)

    def visible(self, operation: str) -> tuple[str, ...] | None:
        """Return the fields ``operation`` may use, or None for all."""
        own = self.permission(operation).fields
        return own if own is not None else self.fields


@dataclass(frozen=True)
class JwtOptions:
    """``jwt = {...}``: how bearer tokens are verified."""

    secret: str | None = None
    jwks: str | None = None
    audience: str | None = None
    issuer: str | None = None
    algorithms: tuple[str, ...] = ("HS256",)


@dataclass(frozen=True)
class AuthorizationOptions:
    """``[authorization]`` of a db service's service.toml."""

    admin_secret: str | None = None
    role_claim: str = "role"
    anonymous_role: str = "anonymous"
    jwt: JwtOptions | None = None
    webhook: str | None = None
    rules: tuple[Rule, ...] = field(default_factory=tuple)


def find_rule(rules: tuple[Rule, ...], roles, entity: str) -> Rule | None:
    """Return the first rule naming ``entity`` and one of ``roles``."""
    for rule in rules:
        if rule.role in roles and rule.names(entity):
            return rule
    return None


def read_authorization(reader: TableReader) -> AuthorizationOptions | None:
    """Read ``[authorization]``; None when the service has none (open)."""
    if "authorization" not in reader.data:
        return None
    table = reader.table("authorization")
    jwt = table.get("jwt", dict, None)
    webhook = table.get("webhook", dict, None)
    options = AuthorizationOptions(
        admin_secret=table.get("adminSecret", str, None) or None,
        role_claim=table.get("roleClaim", str, "role"),
        anonymous_role=table.get("anonymousRole", str, "anonymous"),
        jwt=_jwt(table.table("jwt")) if jwt is not None else None,
        webhook=_webhook(table.table("webhook")) if webhook is not None else None,
        rules=tuple(rule_from_table(rule) for rule in table.tables("rules")),
    )
    table.finish()
    return options


def _jwt(table: TableReader) -> JwtOptions:
    secret = table.get("secret", str, None)
    jwks = table.get("jwks", str, None)
    default = ("HS256",) if secret else ("RS256", "ES256")
    options = JwtOptions(
        secret=secret,
        jwks=jwks,
        audience=table.get("audience", str, None),
        issuer=table.get("issuer", str, None),
        algorithms=tuple(table.get("algorithms", list, list(default))),
    )
    table.finish()
    if bool(secret) == bool(jwks):
        raise ConfigError(f"{table.where('secret')}: give either secret or jwks")
    if "none" in (a.lower() for a in options.algorithms):
        raise ConfigError(f"{table.where('algorithms')}: 'none' is never accepted")
    hmac_only = all(a.startswith("HS") for a in options.algorithms)
    if (
        secret
        and not hmac_only
        or jwks
        and any(a.startswith("HS") for a in options.algorithms)
    ):
        raise ConfigError(
            f"{table.where('algorithms')}: a secret takes HS* algorithms only, "
            f"a jwks URL asymmetric ones only"
        )
    return options


def _webhook(table: TableReader) -> str:
    url = table.get("url", str)
    table.finish()
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{table.where('url')}: {url!r} must be an http(s) URL")
    return url


def _permission(value: Any, where: str) -> Permission:
    if isinstance(value, bool):
        return Permission(value)
    if isinstance(value, str):
        return Permission(True, (parse_condition(value, where),))
    if isinstance(value, list):
        return Permission(True, tuple(parse_condition(v, where) for v in value))
    if isinstance(value, dict):
        unknown = set(value) - {"checks", "fields"}
        if unknown:
            raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r}")
        checks = value.get("checks")
        fields = value.get("fields")
        return Permission(
            True,
            parse_checks(checks, f"{where}.checks") if checks is not None else (),
            tuple(fields) if fields is not None else None,
        )
    raise ConfigError(f"{where}: expected true, false, conditions or {{checks = ...}}")


def rule_from_table(table: TableReader) -> Rule:
    """Read one rule table; raise ConfigError naming the bad key."""
    role = table.get("role", str)
    entity = table.get("entity", str, None)
    entities = table.get("entities", list, None)
    if (entity is None) == (entities is None):
        raise ConfigError(f"{table.where('entity')}: give entity or entities")
    permissions = {
        op: _permission(table.get(op, (bool, str, list, dict), False), table.where(op))
        for op in OPERATIONS
    }
    defaults = table.get("defaults", dict, {})
    fields = table.get("fields", list, None)
    table.finish()
    return Rule(
        role=role,
        entities=(entity,) if entity is not None else tuple(entities),
        defaults=tuple(
            (name, *_literal(str(value), table.where(f"defaults.{name}")))
            if isinstance(value, str)
            else (name, None, value)
            for name, value in defaults.items()
        ),
        fields=tuple(fields) if fields is not None else None,
        source=f"{table.file}: {table.path}" if table.path else table.file,
        **permissions,
    )


def check_rules(
    options: AuthorizationOptions, entities: dict[str, ModelInfo], service: str
) -> None:
    """Raise ConfigError for a rule naming an unknown entity or field."""
    for rule in options.rules:
        for name in rule.entities:
            if name != "*" and name not in entities:
                raise ConfigError(
                    f"{rule.source}: no entity '{name}' in service '{service}'."
                    + did_you_mean(name, entities)
                )
        for name in rule.entities if "*" not in rule.entities else entities:
            _check_fields(rule, entities[name])


def _check_fields(rule: Rule, info: ModelInfo) -> None:
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
    for name in used:
        if name not in info.fields:
            raise ConfigError(
                f"{rule.source}: no field '{name}' in entity '{info.entity}'."
                + did_you_mean(name, info.fields)
            )
