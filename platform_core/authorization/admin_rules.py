"""Rules edited in Django admin (``AuthorizationRule``), live without restart.

They follow the rules of the service's ``service.toml``, and are checked on
save as start-up checks the file. Each request reads the rules' version
(one small query), so an edit in any process applies to the next request
in every process::

    rules = service_rules(options, "shop", memo)   # file rules + admin rules
"""

from __future__ import annotations

import threading

from django.db.models import Count, Max

from platform_core.authorization.rules import (
    AuthorizationOptions,
    Rule,
    check_rules,
    rule_from_table,
)
from platform_core.config.reader import TableReader
from platform_core.exceptions import ConfigError

_cache: dict[str, tuple[tuple, tuple[Rule, ...]]] = {}
_lock = threading.Lock()


def _reader(rule) -> TableReader:
    label = f"admin rule {rule.pk or 'new'} of '{rule.service}'"
    return TableReader(rule.as_toml_table(), label, "")


def validate_rule(rule) -> str:
    """Return why ``rule`` (an AuthorizationRule) is invalid, or ""."""
    from platform_core.db.schema import get_schema
    from platform_core.registry import services

    if not services.is_registered(rule.service):
        return f"No service '{rule.service}'."
    spec = services.get(rule.service)
    if spec.kind != "db" or spec.options.authorization is None:
        return (
            f"'{rule.service}' has no [authorization] in {spec.source}; add it "
            f"(its identity sources) before adding rules here."
        )
    try:
        parsed = rule_from_table(_reader(rule))
        entities = dict(get_schema(spec).entities)
        check_rules(AuthorizationOptions(rules=(parsed,)), entities, spec.id)
    except ConfigError as exc:
        return str(exc)
    return ""


def service_rules(
    options: AuthorizationOptions, service_id: str, memo: dict | None = None
) -> tuple[Rule, ...]:
    """Return the file's rules, then the admin's; ``memo`` holds one request's."""
    if memo is not None and ("rules", service_id) in memo:
        return memo["rules", service_id]
    from platform_core.models import AuthorizationRule

    rows = AuthorizationRule.objects.filter(service=service_id)
    version = tuple(rows.aggregate(Max("updated_at"), Count("id")).values())
    cached = _cache.get(service_id)
    if cached is None or cached[0] != version:
        loaded = tuple(rule_from_table(_reader(rule)) for rule in rows)
        with _lock:
            _cache[service_id] = cached = (version, loaded)
    rules = options.rules + cached[1]
    if memo is not None:
        memo["rules", service_id] = rules
    return rules
