"""System checks that need no database: frontends, wsgi apps, modules, settings."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
from types import SimpleNamespace

import pytest
from django.core.checks import Error
from django.core.checks.registry import CheckRegistry
from django.test import override_settings

from platform_core import checks
from platform_core.config import load_config, override_config
from platform_core.registry import ServiceRegistry
from platform_core.testing import register_temporarily

SCRIPTS = {"build": "next build", "start": "next start", "dev": "next dev"}
WSGI_HINT = (
    'Give app as "package.module:callable", importable from the project root '
    "(services.<folder>.<module> for code in the service's folder)."
)
FOLDER_HINT = (
    "Set [frontend] path to the Node app's folder, relative to the project root."
)
MANIFEST_HINT = (
    "Run `npm init` there, or point [frontend] path at the folder holding package.json."
)


def write_project(root, **services):
    """Write joule.toml and ``services/<folder>/service.toml`` for each one."""
    (root / "joule.toml").write_text("")
    for folder, text in services.items():
        (root / "services" / folder).mkdir(parents=True)
        (root / "services" / folder / "service.toml").write_text(text)
    return root


def node_app(root, name, scripts=SCRIPTS):
    """Write ``proxied_frontends/<name>/package.json`` with ``scripts``."""
    folder = root / "proxied_frontends" / name
    folder.mkdir(parents=True)
    (folder / "package.json").write_text(json.dumps({"name": name, "scripts": scripts}))
    return folder


def frontend(path, **keys):
    lines = ['kind = "frontend"', "[frontend]", f'path = "{path}"']
    lines += [f'{key} = "{value}"' for key, value in keys.items()]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def loaded(root):
    """Use the project in ``root``; yield a fresh registry of its services."""
    config = load_config(root)
    registry = ServiceRegistry()
    for spec in config.services:
        registry.register(spec)
    with override_config(config):
        yield registry


@pytest.fixture
def importable(tmp_path, monkeypatch):
    """Write a top-level module in tmp_path; forget it after the test."""
    monkeypatch.syspath_prepend(str(tmp_path))
    written = []

    def write(name: str, text: str) -> str:
        path = tmp_path / (name.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(name.split(".")[0])
        return name

    yield write
    for name in list(sys.modules):
        if name.split(".")[0] in written:
            del sys.modules[name]


def test_checks_are_registered_once_with_the_joule_tag():
    registry = CheckRegistry()
    checks.register_checks(registry)
    checks.register_checks(registry)  # ready() again: nothing added
    registered = registry.get_checks()
    assert len(registered) == 5
    assert {check.tags for check in registered} == {("joule",)}
    assert registry.tag_exists("joule")


def test_the_platforms_checks_are_registered_with_django():
    from django.core.checks import registry

    assert checks.check_db_services in registry.registry.get_checks()
    assert registry.registry.tag_exists(checks.TAG)


def test_missing_frontend_folder_suggests_the_nearest(tmp_path):
    node_app(tmp_path, "storefront")
    write_project(tmp_path, shop=frontend("proxied_frontends/storefrnt"))
    with loaded(tmp_path) as registry:
        messages = checks.check_frontends(registry=registry)
    assert messages == [
        Error(
            "services/shop/service.toml: frontend.path: 'proxied_frontends/storefrnt' "
            "is not a folder. Did you mean 'proxied_frontends/storefront'?",
            hint=FOLDER_HINT,
            obj="shop",
            id="joule.E004",
        )
    ]


def test_frontend_folder_without_package_json_is_an_error(tmp_path):
    (tmp_path / "web").mkdir()
    write_project(tmp_path, web=frontend("web"))
    with loaded(tmp_path) as registry:
        messages = checks.check_frontends(registry=registry)
    assert messages == [
        Error(
            "services/web/service.toml: frontend.path: 'web' has no package.json, "
            "so npm can neither install, build nor start it.",
            hint=MANIFEST_HINT,
            obj="web",
            id="joule.E004",
        )
    ]


def test_frontend_package_json_that_is_not_json_is_an_error(tmp_path):
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "package.json").write_text("[1, 2]")
    write_project(tmp_path, web=frontend("web"))
    with loaded(tmp_path) as registry:
        [message] = checks.check_frontends(registry=registry)
    assert message.id == "joule.E004"
    assert message.msg.startswith(
        "services/web/service.toml: frontend.path: 'web': package.json is not "
        "a JSON object ("
    )


def test_frontend_command_running_a_missing_script_is_an_error(tmp_path):
    node_app(tmp_path, "web", {"start": "node server.js", "bulid": "tsc"})
    write_project(
        tmp_path, web=frontend("proxied_frontends/web", build="npm run build")
    )
    with loaded(tmp_path) as registry:
        messages = checks.check_frontends(registry=registry)
    assert messages == [
        Error(
            "services/web/service.toml: frontend.build: 'npm run build' runs the "
            "script 'build', which proxied_frontends/web/package.json does not "
            "have. Did you mean 'bulid'?",
            hint='Add it to "scripts" in package.json, or set [frontend] build to '
            "a command the app has.",
            obj="web",
            id="joule.E009",
        )
    ]


def test_a_complete_frontend_passes(tmp_path):
    node_app(tmp_path, "web")
    write_project(
        tmp_path,
        web=frontend("proxied_frontends/web", build="npm run build", dev="npm run dev"),
    )
    with loaded(tmp_path) as registry:
        assert checks.check_frontends(registry=registry) == []


def test_wsgi_app_that_is_not_there_suggests_the_nearest(tmp_path, importable):
    importable("joule_checks_legacy", "def application(environ, start):\n    pass\n")
    write_project(
        tmp_path, old='kind = "wsgi"\napp = "joule_checks_legacy:aplication"\n'
    )
    with loaded(tmp_path) as registry:
        messages = checks.check_wsgi_apps(registry=registry)
    assert messages == [
        Error(
            "services/old/service.toml: app: cannot import "
            "'joule_checks_legacy:aplication': module 'joule_checks_legacy' has "
            "no attribute 'aplication'. Did you mean 'application'?",
            hint=WSGI_HINT,
            obj="old",
            id="joule.E005",
        )
    ]


def test_wsgi_module_failing_while_imported_is_an_error(tmp_path, importable):
    importable("joule_checks_broken", "raise RuntimeError('no SECRET set')\n")
    write_project(
        tmp_path, old='kind = "wsgi"\napp = "joule_checks_broken:application"\n'
    )
    with loaded(tmp_path) as registry:
        messages = checks.check_wsgi_apps(registry=registry)
    assert messages == [
        Error(
            "services/old/service.toml: app: cannot import "
            "'joule_checks_broken:application': RuntimeError: no SECRET set",
            hint=WSGI_HINT,
            obj="old",
            id="joule.E005",
        )
    ]


def test_service_urls_failing_while_imported_is_an_error(tmp_path, importable):
    importable("joule_checks_hello.__init__", "")
    importable("joule_checks_hello.urls", "from django.urls import nothing\n")
    write_project(tmp_path, hello='kind = "service"\n')
    with loaded(tmp_path) as registry:
        spec = registry.get("hello")
        registry.unregister("hello")
        registry.register(dataclasses.replace(spec, module="joule_checks_hello"))
        messages = checks.check_service_modules(registry=registry)
    assert messages == [
        Error(
            "services/hello/urls.py: cannot be imported: ImportError: cannot "
            "import name 'nothing' from 'django.urls' "
            f"({sys.modules['django.urls'].__file__})",
            hint="Run `python -c 'import joule_checks_hello.urls'` from the "
            "project root for the traceback.",
            obj="hello",
            id="joule.E007",
        )
    ]


def test_middleware_the_fast_routes_would_skip_is_an_error(settings):
    extra = "django.middleware.locale.LocaleMiddleware"
    with override_settings(MIDDLEWARE=[*settings.MIDDLEWARE, extra]):
        messages = checks.check_middleware()
    assert messages == [
        Error(
            f"MIDDLEWARE holds '{extra}', which the fast routes of generated APIs "
            "would skip.",
            hint="Add its effect to platform_core.fastpath and its name to "
            "platform_core.observability.envelope.REPRODUCED, or remove it.",
            id="joule.E008",
        )
    ]
    assert checks.check_middleware() == []


def test_every_mistake_is_listed_at_once(tmp_path, importable):
    importable("joule_checks_app", "application = None\n")
    (tmp_path / "bare").mkdir()
    write_project(
        tmp_path,
        missing=frontend("nowhere"),
        bare=frontend("bare"),
        old='kind = "wsgi"\napp = "joule_checks_app:application"\n',
        fine='kind = "service"\n',
    )
    registry = CheckRegistry()
    checks.register_checks(registry)
    config = load_config(tmp_path)
    labels = [SimpleNamespace(label=spec.label) for spec in config.services]
    with contextlib.ExitStack() as stack:
        stack.enter_context(override_config(config))
        for spec in config.services:
            stack.enter_context(register_temporarily(spec))
        messages = registry.run_checks(app_configs=labels, tags=["joule"])
    assert sorted((m.obj, m.id, m.msg) for m in messages) == [
        (
            "bare",
            "joule.E004",
            "services/bare/service.toml: frontend.path: 'bare' has no "
            "package.json, so npm can neither install, build nor start it.",
        ),
        (
            "missing",
            "joule.E004",
            "services/missing/service.toml: frontend.path: 'nowhere' is not a folder.",
        ),
        (
            "old",
            "joule.E005",
            "services/old/service.toml: app: 'joule_checks_app:application' is "
            "not callable",
        ),
    ]
