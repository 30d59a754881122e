"""System checks of the platform: what is found wrong after loading.

The configuration is read at start-up, but some mistakes only show against
what it names: a rule naming a column the table lacks, a frontend folder
without package.json, a WSGI app that does not import. ``manage.py check``
(and every command that runs checks) lists each of them at once, with a
stable id and a hint, as Django does for models::

    shop: (joule.E002) services/shop/service.toml: authorization.rules[0]:
        no field 'ownerid' in entity 'post'. Did you mean 'ownerId'?
        HINT: Name one of the entity's fields: id, title, ownerId.

    manage.py check --tag joule        # these checks only

Registered in ``PlatformCoreConfig.ready()``. Each check takes the service
registry as ``registry`` (the default one when Django runs it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.core import checks
from django.core.checks.registry import CheckRegistry
from django.core.checks.registry import registry as django_checks
from django.db import DatabaseError, connections

from platform_core.authorization.rules import unknown_names
from platform_core.config import get_config
from platform_core.config.services import import_app
from platform_core.config.types import ServiceSpec
from platform_core.db.catalog import get_schema
from platform_core.db.migrator import Migration, Migrator
from platform_core.exceptions import ConfigError, did_you_mean
from platform_core.introspection import ModelInfo
from platform_core.kinds.db import unknown_webhook_entities
from platform_core.observability.envelope import REPRODUCED
from platform_core.registry import ServiceRegistry, services
from platform_core.registry.kinds import import_optional

TAG = "joule"
# A frontend command that runs a package.json script: "npm run build".
NPM_SCRIPT = re.compile(r"^\s*(?:npm|pnpm|yarn)\s+(?:run|run-script)\s+([^\s;&|]+)")
FRONTEND_COMMANDS = ("command", "build", "dev")


def register_checks(registry: CheckRegistry = django_checks) -> None:
    """Register the platform's checks on Django's ``registry``, tagged ``joule``.

    A registry keeps its checks in a set, so a second call (``ready()``
    runs again for other settings in tests) registers nothing twice.
    """
    for check in (
        check_db_services,
        check_frontends,
        check_wsgi_apps,
        check_service_modules,
        check_middleware,
    ):
        registry.register(check, TAG)


def _specs(
    app_configs: Iterable | None, registry: ServiceRegistry, kind: str | None = None
) -> list[ServiceSpec]:
    """Return the services to check: those of ``app_configs`` when given."""
    labels = None if app_configs is None else {c.label for c in app_configs}
    return [
        spec
        for spec in registry
        if (kind is None or spec.kind == kind)
        and (labels is None or spec.label in labels)
    ]


def check_db_services(
    app_configs=None, registry: ServiceRegistry = services, **kwargs
) -> list[checks.CheckMessage]:
    """Check each db service's rules and webhooks against its tables.

    joule.E001/E002: a rule names an unknown entity/field; E003: a webhook
    names an unknown entity; E006: the migrations folder cannot be read;
    W001: the database cannot be read (nothing else is checked then);
    W002: migrations are pending, so the tables are not checked yet. A
    service with neither rules nor webhooks is not connected to.
    """
    messages: list[checks.CheckMessage] = []
    for spec in _specs(app_configs, registry, "db"):
        messages.extend(_db_service_messages(spec))
    return messages


def _db_service_messages(spec: ServiceSpec) -> list[checks.CheckMessage]:
    options = spec.options
    rules = options.authorization.rules if options.authorization else ()
    try:
        migrator = Migrator(spec)  # reads migrations/ without a query
        if not rules and not options.webhooks:
            return []  # nothing to check against the tables: no connection
        connections[migrator.alias].ensure_connection()
    except ConfigError as exc:
        return [
            checks.Error(
                str(exc),
                hint="Name migration files like 001.do.sql and 001.undo.sql "
                "(or 001.do.<name>.sql), one of each per version.",
                obj=spec.id,
                id="joule.E006",
            )
        ]
    except Exception as exc:  # any driver error: the database does not answer
        return [_unreadable(spec, exc)]
    try:
        # A database without migrations (legacy) is never written to here.
        pending = migrator.pending() if migrator.migrations else []
        entities = {} if pending else get_schema(spec).entities
    except DatabaseError as exc:
        return [_unreadable(spec, exc)]
    if pending:
        return [_pending(spec, migrator, pending)]
    return [*_rule_messages(spec, entities), *_webhook_messages(spec, entities)]


def _unreadable(spec: ServiceSpec, exc: Exception) -> checks.CheckMessage:
    """Return joule.W001: the service's database does not answer."""
    lines = str(exc).strip().splitlines()  # drivers add detail lines
    reason = exc.__class__.__name__ + (f": {lines[0]}" if lines else "")
    if spec.options.connection:
        where = f"{spec.source}: db.connection: the database"
    else:
        where = f"{spec.source}: the platform database (joule.toml: database.url)"
    return checks.Warning(
        f"{where} of service '{spec.id}' cannot be read ({reason}); its rules "
        "and webhooks were not checked against its tables.",
        hint="Start the database server or correct the URL, then run "
        "`manage.py check` again.",
        obj=spec.id,
        id="joule.W001",
    )


def _pending(
    spec: ServiceSpec, migrator: Migrator, pending: list[Migration]
) -> checks.CheckMessage:
    """Return joule.W002: the tables the rules name may not exist yet."""
    return checks.Warning(
        f"{migrator.source}: {len(pending)} migration(s) not applied "
        f"({', '.join(m.do.name for m in pending)}); the rules and webhooks of "
        f"service '{spec.id}' were not checked against its tables.",
        hint="Run `manage.py dbmigrate` (a server applies them at start when "
        "autoApply is on), then `manage.py check` again.",
        obj=spec.id,
        id="joule.W002",
    )


def _rule_messages(
    spec: ServiceSpec, entities: dict[str, ModelInfo]
) -> list[checks.CheckMessage]:
    """Return joule.E001 and E002 for each name the rules use and tables lack."""
    if spec.options.authorization is None:
        return []
    hints = {
        "entity": 'Name one of the service\'s entities ({}), or "*" for all.',
        "field": "Name one of the entity's fields: {}.",
    }
    ids = {"entity": "joule.E001", "field": "joule.E002"}
    return [
        checks.Error(
            unknown.message,
            hint=hints[unknown.what].format(", ".join(unknown.choices) or "none"),
            obj=spec.id,
            id=ids[unknown.what],
        )
        for unknown in unknown_names(spec.options.authorization, entities, spec.id)
    ]


def _webhook_messages(
    spec: ServiceSpec, entities: dict[str, ModelInfo]
) -> list[checks.CheckMessage]:
    """Return joule.E003 for each webhook naming an entity the tables lack."""
    return [
        checks.Error(
            message,
            hint=f"Name one of the service's entities ({', '.join(entities) or 'none'})"
            ', or "*" for all.',
            obj=spec.id,
            id="joule.E003",
        )
        for message in unknown_webhook_entities(spec, list(entities))
    ]


def check_frontends(
    app_configs=None, registry: ServiceRegistry = services, **kwargs
) -> list[checks.CheckMessage]:
    """Check that each frontend's folder is a Node app with its scripts.

    joule.E004: the folder is missing or has no readable package.json;
    E009: a command runs a package.json script that is not there.
    """
    root = get_config().root
    messages: list[checks.CheckMessage] = []
    for spec in _specs(app_configs, registry, "frontend"):
        messages.extend(_frontend_messages(spec, root))
    return messages


def _frontend_messages(spec: ServiceSpec, root: Path) -> list[checks.CheckMessage]:
    path = spec.options.path
    folder = root / path
    where = f"{spec.source}: frontend.path: '{path}'"
    if not folder.is_dir():
        parent = folder.parent
        near = [
            str(Path(path).parent / child.name)
            for child in (parent.iterdir() if parent.is_dir() else ())
            if child.is_dir()
        ]
        return [
            _no_node_app(
                spec,
                f"{where} is not a folder." + did_you_mean(path, near),
                "Set [frontend] path to the Node app's folder, relative to the "
                "project root.",
            )
        ]
    manifest = folder / "package.json"
    if not manifest.is_file():
        return [
            _no_node_app(
                spec,
                f"{where} has no package.json, so npm can neither install, "
                "build nor start it.",
                "Run `npm init` there, or point [frontend] path at the folder "
                "holding package.json.",
            )
        ]
    try:
        scripts = json.loads(manifest.read_text()).get("scripts") or {}
    except (ValueError, AttributeError) as exc:
        return [
            _no_node_app(
                spec,
                f"{where}: package.json is not a JSON object ({exc}).",
                "Fix package.json; npm reads it to install, build and start the app.",
            )
        ]
    return list(_script_messages(spec, scripts))


def _no_node_app(spec: ServiceSpec, message: str, hint: str) -> checks.CheckMessage:
    return checks.Error(message, hint=hint, obj=spec.id, id="joule.E004")


def _script_messages(spec: ServiceSpec, scripts: dict) -> Iterable[checks.Error]:
    """Yield joule.E009 for each command running a script package.json lacks."""
    for key in FRONTEND_COMMANDS:
        command = getattr(spec.options, key)
        match = NPM_SCRIPT.match(command)
        if match and match.group(1) not in scripts:
            script = match.group(1)
            yield checks.Error(
                f"{spec.source}: frontend.{key}: {command!r} runs the script "
                f"'{script}', which {spec.options.path}/package.json does not "
                "have." + did_you_mean(script, scripts),
                hint='Add it to "scripts" in package.json, or set '
                f"[frontend] {key} to a command the app has.",
                obj=spec.id,
                id="joule.E009",
            )


def check_wsgi_apps(
    app_configs=None, registry: ServiceRegistry = services, **kwargs
) -> list[checks.CheckMessage]:
    """Import each wsgi service's ``app``: joule.E005 for one that fails."""
    return [
        checks.Error(
            message,
            hint='Give app as "package.module:callable", importable from the '
            "project root (services.<folder>.<module> for code in the "
            "service's folder).",
            obj=spec.id,
            id="joule.E005",
        )
        for spec in _specs(app_configs, registry, "wsgi")
        if (message := _import_error(spec)) is not None
    ]


def _import_error(spec: ServiceSpec) -> str | None:
    """Return why the wsgi service's ``app`` does not import, or None."""
    options = spec.options
    try:
        import_app(options.app, options.where)
    except ConfigError as exc:
        return str(exc)
    except Exception as exc:  # the module itself fails while importing
        return (
            f"{options.where}: cannot import {options.app!r}: "
            f"{exc.__class__.__name__}: {exc}"
        )
    return None


def check_service_modules(
    app_configs=None, registry: ServiceRegistry = services, **kwargs
) -> list[checks.CheckMessage]:
    """Import each service's urls.py and routing.py: joule.E007 for a failure.

    A server would log the error and answer every request under the
    service's prefix with a 500.
    """
    messages: list[checks.CheckMessage] = []
    for spec in _specs(app_configs, registry):
        for name in ("urls", "routing"):
            try:
                import_optional(f"{spec.module}.{name}")
            except Exception as exc:  # any error raised by the service's code
                messages.append(
                    checks.Error(
                        f"services/{spec.folder.name}/{name}.py: cannot be "
                        f"imported: {exc.__class__.__name__}: {exc}",
                        hint=f"Run `python -c 'import {spec.module}.{name}'` "
                        "from the project root for the traceback.",
                        obj=spec.id,
                        id="joule.E007",
                    )
                )
    return messages


def check_middleware(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Return joule.E008 for each MIDDLEWARE entry the fast routes would skip."""
    return [
        checks.Error(
            f"MIDDLEWARE holds {entry!r}, which the fast routes of generated "
            "APIs would skip.",
            hint="Add its effect to platform_core.fastpath and its name to "
            "platform_core.observability.envelope.REPRODUCED, or remove it.",
            id="joule.E008",
        )
        for entry in settings.MIDDLEWARE
        if entry not in REPRODUCED
    ]
