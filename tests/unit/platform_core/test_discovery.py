"""Service folders become installed Django apps with no settings edit."""

from django.apps import apps
from django.conf import settings

from platform_core import service_apps
from platform_core.config import load_config, override_config
from platform_core.discovery import installed_apps
from platform_core.service import ServiceAppConfig


def test_every_service_is_an_installed_app():
    assert "platform_core.service_apps.hello" in settings.INSTALLED_APPS
    assert "platform_core.service_apps.legacy" in settings.INSTALLED_APPS


def test_a_service_without_apps_py_gets_a_generated_config():
    config = apps.get_app_config("legacy")
    assert isinstance(config, ServiceAppConfig)
    assert type(config).__name__ == "LegacyConfig"
    assert type(config).__module__ == "services.legacy"
    assert config.name == "services.legacy"
    assert config.path.endswith("services/legacy")
    assert config.spec.kind == "wsgi"


def write(path, text=""):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_ids_with_dashes_get_valid_app_labels(tmp_path):
    write(tmp_path / "services" / "legacy-api" / "service.toml", 'kind = "service"')
    config = load_config(tmp_path)
    assert installed_apps(config) == ["platform_core.service_apps.legacy_api"]
    with override_config(config):
        cls = service_apps._app_config_class.__wrapped__("legacy_api")
    assert (cls.__name__, cls.label, cls.name) == (
        "LegacyApiConfig",
        "legacy_api",
        "services.legacy-api",
    )


def test_a_service_apps_py_subclass_is_used(tmp_path):
    folder = tmp_path / "services" / "shop"
    write(folder / "service.toml", 'kind = "service"')
    write(
        folder / "apps.py",
        (
            "from platform_core.service import ServiceAppConfig\n"
            "class ShopConfig(ServiceAppConfig):\n"
            "    name = 'services.shop'\n"
            "    label = 'shop'\n"
            "    verbose_name = 'The shop'\n"
        ),
    )
    import sys

    config = load_config(tmp_path)
    sys.path.insert(0, str(tmp_path))
    saved = {
        k: sys.modules.pop(k)
        for k in list(sys.modules)
        if k == "services" or k.startswith("services.")
    }
    try:
        with override_config(config):
            cls = service_apps._app_config_class.__wrapped__("shop")
        assert cls.verbose_name == "The shop"
    finally:
        sys.path.remove(str(tmp_path))
        for key in [
            k for k in sys.modules if k == "services" or k.startswith("services.")
        ]:
            del sys.modules[key]
        sys.modules.update(saved)


def test_root_is_put_on_sys_path_for_service_imports(tmp_path):
    import sys

    config = load_config(tmp_path)
    try:
        installed_apps(config)
        assert sys.path[0] == str(tmp_path.resolve())
    finally:
        sys.path.remove(str(tmp_path.resolve()))
