"""An optional extra that is not installed is a configuration error saying
how to install it, never a raw ModuleNotFoundError."""

import pytest

from platform_core.db.connections import require_extra
from platform_core.exceptions import ConfigError


def test_a_missing_extra_names_the_packages_and_the_pip_command():
    with pytest.raises(
        ConfigError,
        match=r"a mysql:// database needs the 'mysql' extra, which is not "
        r"installed: apt-get install default-libmysqlclient-dev pkg-config, "
        r"then pip install 'joule\[mysql\]'",
    ):
        require_extra(
            "no_such_driver_module",
            "mysql",
            "a mysql:// database",
            "default-libmysqlclient-dev pkg-config",
        )


def test_an_installed_extra_passes():
    require_extra("json", "mysql", "a mysql:// database", "")
