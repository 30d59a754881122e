"""``[authorization]`` of a db service: identity options and rules, parsed.

The types and their parsing live with the rest of the configuration; what
they mean for a request (``conditions_q``, ``find_rule``) lives in
``platform_core.authorization``. Two condition forms, as Platformatic and the
seed's examples write them::

    save = ["ownerId = $USER_ID", "status != 'archived'"]   # field op value
    delete = { checks = { ownerId = { eq = "USER_ID" } } }   # value: a claim
    find = { checks = { workspaceId = "WORKSPACE_ID" } }     # eq implied

    options = read_authorization(reader)      # None when the service is open
    options.rules[0].permission("save").conditions
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from platform_core.config.reader import TableReader
from platform_core.exceptions import ConfigError

OPERATORS = {
    "=": "eq",
    "!=": "neq",
    ">": "gt",
    ">=": "gte",
    "<": "lt",
    "<=": "lte",
    "in": "in",
    "nin": "nin",
}
COMPARISONS = {
    "eq": operator.eq,
    "neq": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
_SEED = re.compile(r"^\s*([A-Za-z_]\w*)\s*(!=|>=|<=|=|>|<|\bnin\b|\bin\b)\s*(.+?)\s*$")
_CLAIM = re.compile(r"^\$([A-Za-z_][\w-]*)$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_QUOTED = re.compile(r"""^(['"])(.*)\1$""")


class MissingClaim(Exception):
    """The caller lacks a claim a condition needs: the condition denies."""


def normalize(name: str) -> str:
    """Return a claim name as compared: upper case, ``-`` as ``_``, no prefix."""
    name = name.upper().replace("-", "_")
    return name.removeprefix("X_JOULE_")


@dataclass(frozen=True)
class Condition:
    """``field op value``: the value is a claim (``claim``) or ``literal``."""

    field: str
    op: str
    claim: str | None = None
    literal: Any = None

    def value(self, claims: Mapping[str, Any]) -> Any:
        """Return the value to compare with; raise MissingClaim without it."""
        if self.claim is None:
            return self.literal
        value = claims.get(self.claim)
        if value is None:
            raise MissingClaim(self.claim)
        return value


def parse_literal(text: str, where: str) -> Any:
    claim = _CLAIM.match(text)
    if claim:
        return normalize(claim.group(1)), None
    if _NUMBER.match(text):
        return None, float(text) if "." in text else int(text)
    quoted = _QUOTED.match(text)
    if quoted:
        return None, quoted.group(2)
    if text in ("true", "false"):
        return None, text == "true"
    raise ConfigError(
        f"{where}: {text!r} is neither a claim ($NAME), a number nor a quoted string"
    )


def parse_condition(text: str, where: str) -> Condition:
    """Parse ``"field op value"`` (the seed's form); raise ConfigError if bad."""
    match = _SEED.match(text) if isinstance(text, str) else None
    if match is None:
        raise ConfigError(
            f'{where}: {text!r} is not a condition like "ownerId = $USER_ID" '
            f"(operators: {' '.join(OPERATORS)})"
        )
    field, op, value = match.groups()
    claim, literal = parse_literal(value, where)
    return Condition(field, OPERATORS[op], claim, literal)


def parse_checks(checks: Any, where: str) -> tuple[Condition, ...]:
    """Parse Platformatic's ``checks`` table: ``{field = CLAIM | {op = CLAIM}}``."""
    if not isinstance(checks, Mapping) or not checks:
        raise ConfigError(f"{where}: checks must be a table of field = claim")
    conditions = []
    for column, check in checks.items():
        pairs = check.items() if isinstance(check, Mapping) else [("eq", check)]
        for op, claim in pairs:
            if op not in COMPARISONS and op not in ("in", "nin"):
                raise ConfigError(
                    f"{where}: unknown operator {op!r} for {column!r}; use one of "
                    f"{', '.join([*COMPARISONS, 'in', 'nin'])}"
                )
            if not isinstance(claim, str) or not claim:
                raise ConfigError(f"{where}: {column}.{op} must name a claim")
            conditions.append(Condition(column, op, normalize(claim.lstrip("$"))))
    return tuple(conditions)


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
            (name, *parse_literal(str(value), table.where(f"defaults.{name}")))
            if isinstance(value, str)
            else (name, None, value)
            for name, value in defaults.items()
        ),
        fields=tuple(fields) if fields is not None else None,
        source=f"{table.file}: {table.path}" if table.path else table.file,
        **permissions,
    )
