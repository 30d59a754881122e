"""The entities API's authorization: rules applied to every operation.

``RuleHooks`` is the ``EntityHooks`` of a db service with
``[authorization]``: the caller's rule is ANDed into every query as a Q,
``defaults`` are forced on inserts, and ``fields`` hides columns::

    Entities(schema, RuleHooks(options))
    rule_hooks_for(spec)   # the service's one RuleHooks, or None when open

The caller is the ``context`` given to an entities call (a request, its
Credentials or an Identity); without one, the request being served
(``identity.current``); outside any request, the platform itself, which
rules do not restrict.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from platform_core.authorization.admin_rules import service_rules
from platform_core.authorization.conditions import (
    MissingClaim,
    conditions_q,
    row_matches,
)
from platform_core.authorization.identity import Credentials, Identity, current
from platform_core.authorization.rules import AuthorizationOptions, Rule, find_rule
from platform_core.entities.entity import EntityHooks
from platform_core.entities.values import to_python
from platform_core.exceptions import FORBIDDEN, APIError
from platform_core.introspection import ModelInfo

_VERBS = {"find": "read", "save": "change", "delete": "delete"}


def forbidden(message: str) -> APIError:
    """Return the 403 of an operation no rule allows."""
    return APIError(FORBIDDEN, 403, message)


class RuleHooks(EntityHooks):
    """Apply a service's authorization rules to its entities."""

    def __init__(self, options: AuthorizationOptions, service_id: str = "") -> None:
        self.options = options
        self.service_id = service_id

    def credentials(self, context: Any) -> Credentials | None:
        """Return the credentials of ``context`` (a request, ...) or the current."""
        if isinstance(context, Credentials):
            return context
        if context is not None and hasattr(context, "headers"):
            found = getattr(context, "joule_credentials", None)
            if found is None:
                found = context.joule_credentials = Credentials.of_request(context)
            return found
        return current.get()

    def identity(self, context: Any) -> Identity | None:
        """Return the caller of ``context``, or None for the platform itself."""
        if isinstance(context, Identity):
            return context
        credentials = self.credentials(context)
        return None if credentials is None else credentials.identity(self.options)

    def rules(self, context: Any) -> tuple[Rule, ...]:
        """Return the service's rules: service.toml's, then Django admin's."""
        if not self.service_id:
            return self.options.rules
        credentials = self.credentials(context)
        memo = credentials.memo if credentials is not None else None
        return service_rules(self.options, self.service_id, memo)

    def rule(self, info: ModelInfo, operation: str, context: Any) -> Rule | None:
        """Return the caller's rule (None: unrestricted); 403 when none allows."""
        identity = self.identity(context)
        if identity is None or identity.admin:
            return None
        rule = find_rule(self.rules(context), identity.roles, info.entity)
        if rule is None or not rule.permission(operation).allowed:
            roles = ", ".join(identity.roles) or "none"
            raise forbidden(
                f'Not allowed to {_VERBS[operation]} "{info.plural}" (roles: {roles})'
            )
        return rule

    def scope(self, info: ModelInfo, operation: str, context: Any) -> Q:
        """Return the rule's conditions as a Q; 403 when the operation is denied."""
        rule = self.rule(info, operation, context)
        if rule is None:
            return Q()
        identity = self.identity(context)
        return conditions_q(
            info, rule.permission(operation).conditions, identity.claims
        )

    def defaults(self, info: ModelInfo, context: Any) -> dict[str, Any]:
        """Return the rule's forced values; 403 when a claim they need is missing."""
        rule = self.rule(info, "save", context)
        if rule is None:
            return {}
        identity = self.identity(context)
        values = {}
        for name, claim, literal in rule.defaults:
            value = literal if claim is None else identity.claims.get(claim)
            if value is None:
                raise forbidden(f'Missing claim "{claim}" for the default of "{name}"')
            values[name] = to_python(
                info.fields[name], value, from_text=isinstance(value, str)
            )
        return values

    def fields(self, info: ModelInfo, operation: str, context: Any):
        """Return the fields the caller may use, or None for all."""
        rule = self.rule(info, operation, context)
        return None if rule is None else rule.visible(operation)

    def allows_row(self, info: ModelInfo, row: dict, context: Any) -> bool:
        """Return whether the caller may see ``row`` (events, subscriptions)."""
        try:
            rule = self.rule(info, "find", context)
        except APIError:
            return False
        if rule is None:
            return True
        identity = self.identity(context)
        try:
            return row_matches(
                info, rule.permission("find").conditions, row, identity.claims
            )
        except MissingClaim:
            return False


_hooks: dict = {}


def rule_hooks_for(spec: Any) -> RuleHooks | None:
    """Return db service ``spec``'s RuleHooks, or None when it is open.

    One object per service and options, so identities cached on it hold.
    The platform plugs this into ``entities.hooks_for`` at start-up.
    """
    options = spec.options.authorization
    if options is None:
        return None
    if (spec.id, options) not in _hooks:
        _hooks[spec.id, options] = RuleHooks(options, spec.id)
    return _hooks[spec.id, options]
