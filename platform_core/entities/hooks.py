"""The entities API's extension point: hooks scoping rows and fields.

``EntityHooks`` allows everything; authorization (``authorization.hooks``)
overrides it. Also the helpers the entities use to apply hooks::

    class Rules(EntityHooks):
        def scope(self, info, operation, context): return Q(owner_id=...)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Q

from platform_core.exceptions import FORBIDDEN, APIError
from platform_core.introspection import ModelInfo


class EntityHooks:
    """Extension point of authorization; the default allows everything.

    Override ``scope`` to return a Q ANDed into every query of an operation
    ("find", "save", "delete") or raise a 403 APIError, ``defaults`` to force
    values on insert, ``fields`` to limit the columns an operation may use,
    and ``allows_row`` to filter rows outside queries (events).
    """

    def scope(self, info: ModelInfo, operation: str, context: Any) -> Q:
        """Return the rows ``context`` may touch for ``operation``."""
        return Q()

    def defaults(self, info: ModelInfo, context: Any) -> dict[str, Any]:
        """Return API field values forced on inserted rows."""
        return {}

    def fields(
        self, info: ModelInfo, operation: str, context: Any
    ) -> tuple[str, ...] | None:
        """Return the fields ``operation`` may name or answer, or None for all."""
        return None

    def allows_row(self, info: ModelInfo, row: dict, context: Any) -> bool:
        """Return whether ``context`` may see ``row`` (a row of an event)."""
        return True


def where_names(where: Mapping | None) -> list[str]:
    """Return the field names a where (with ``or`` branches) uses."""
    names = []
    for name, value in (where or {}).items():
        if name == "or" and isinstance(value, list | tuple):
            for branch in value:
                names.extend(where_names(branch if isinstance(branch, Mapping) else {}))
        else:
            names.append(name)
    return names


def forbidden(message: str) -> APIError:
    """Return the 403 of a write outside what the caller may change."""
    return APIError(FORBIDDEN, 403, message)
