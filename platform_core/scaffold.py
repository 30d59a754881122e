"""Write a new service from the templates of its kind (``startservice``).

``service_templates/<kind>/service/`` becomes ``services/<id>/`` and, for
kinds with a Node app, ``service_templates/<kind>/frontend/`` becomes
``proxied_frontends/<id>/``. ``*-tpl`` files are Django templates::

    files = render_service(config, "orders", "db")   # validates, writes nothing
    write_files(files)
"""

from __future__ import annotations

from pathlib import Path

from django.template import Context, Engine

from platform_core import naming
from platform_core.config.loader import check_prefix
from platform_core.config.types import PlatformConfig
from platform_core.exceptions import ConfigError, did_you_mean
from platform_core.registry import kinds

TEMPLATES = Path(__file__).parent / "service_templates"
_engine = Engine(autoescape=False)


def check_new_service(
    config: PlatformConfig, service_id: str, kind: str, prefix: str
) -> None:
    """Raise ConfigError unless a service ``service_id`` can be created."""
    if not naming.SERVICE_ID_RE.match(service_id):
        raise ConfigError(
            f"'{service_id}' is not a valid service id: use lower-case "
            "letters, digits and '-', starting with a letter"
        )
    if not kinds.is_registered(kind):
        raise ConfigError(
            f"'{kind}' is not a kind. Kinds: {', '.join(kinds.names())}."
            + did_you_mean(kind, kinds.names())
        )
    for spec in config.services:
        if spec.id == service_id:
            raise ConfigError(
                f"A service '{service_id}' already exists ({spec.source})"
            )
        if spec.prefix == prefix:
            raise ConfigError(
                f"The prefix '{prefix}' is already used by the service '{spec.id}'"
            )
    check_prefix(prefix, "--prefix")
    for folder in _targets(config.root, service_id).values():
        if folder.exists():
            raise ConfigError(f"{folder.relative_to(config.root)} already exists")


def _targets(root: Path, service_id: str) -> dict[str, Path]:
    return {
        "service": root / "services" / service_id,
        "frontend": root / "proxied_frontends" / service_id,
    }


def render_service(
    config: PlatformConfig, service_id: str, kind: str, prefix: str | None = None
) -> dict[Path, str]:
    """Return {path: content} of a new service; raise ConfigError if it can't be."""
    prefix = prefix or naming.default_prefix(service_id)
    check_new_service(config, service_id, kind, prefix)
    label = naming.app_label(service_id)
    context = Context(
        {
            "id": service_id,
            "kind": kind,
            "prefix": prefix,
            "label": label,
            "class_name": "".join(part.title() for part in service_id.split("-")),
            "custom_prefix": prefix != naming.default_prefix(service_id),
        }
    )
    files = {}
    for part, target in _targets(config.root, service_id).items():
        source = TEMPLATES / kind / part
        for template in sorted(source.rglob("*-tpl")):
            relative = template.relative_to(source).as_posix().removesuffix("-tpl")
            relative = relative.replace("{label}", label)
            text = _engine.from_string(template.read_text()).render(context)
            files[target / relative] = text
    return files


def write_files(files: dict[Path, str]) -> None:
    """Write every file, creating folders."""
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
