"""Rules edited in Django admin (``AuthorizationRule``), live without restart.

They follow the rules of the service's ``service.toml``, and are checked on
save as start-up checks the file (``AuthorizationRule.clean``). Each request
reads the rules' version (one small query), so an edit in any process applies
to the next request in every process::

    rules = service_rules(options, "shop", memo)   # file rules + admin rules
"""

from __future__ import annotations

import threading

from django.db.models import Count, Max

from platform_core.authorization.rules import (
    AuthorizationOptions,
    Rule,
    rule_from_table,
)
from platform_core.models import AuthorizationRule

_cache: dict[str, tuple[tuple, tuple[Rule, ...]]] = {}
_lock = threading.Lock()


def service_rules(
    options: AuthorizationOptions, service_id: str, memo: dict | None = None
) -> tuple[Rule, ...]:
    """Return the file's rules, then the admin's; ``memo`` holds one request's."""
    if memo is not None and ("rules", service_id) in memo:
        return memo["rules", service_id]
    rows = AuthorizationRule.objects.filter(service=service_id)
    version = tuple(rows.aggregate(Max("updated_at"), Count("id")).values())
    cached = _cache.get(service_id)
    if cached is None or cached[0] != version:
        loaded = tuple(rule_from_table(rule.as_reader()) for rule in rows)
        with _lock:
            _cache[service_id] = cached = (version, loaded)
    rules = options.rules + cached[1]
    if memo is not None:
        memo["rules", service_id] = rules
    return rules
