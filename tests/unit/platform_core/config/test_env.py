"""env(), substitute() and load_dotenv(): the one reader of the environment."""

from __future__ import annotations

import pytest

from platform_core.config.env import env, load_dotenv, substitute
from platform_core.exceptions import ConfigError

NAME = "JOULE_TEST_VALUE"


def unset_later(monkeypatch, name: str) -> None:
    """Unset ``name`` now and after the test, even if a .env sets it."""
    monkeypatch.setenv(name, "")
    monkeypatch.delenv(name)


def test_value_is_returned_as_a_string_by_default(monkeypatch):
    monkeypatch.setenv(NAME, "42")
    assert env(NAME) == "42"


def test_value_is_converted_by_cast(monkeypatch):
    monkeypatch.setenv(NAME, "42")
    assert env(NAME, cast=int) == 42


def test_value_that_does_not_convert_names_the_key(monkeypatch):
    monkeypatch.setenv(NAME, "forty")
    with pytest.raises(ConfigError, match=f"environment variable {NAME}='forty': "):
        env(NAME, cast=int)


@pytest.mark.parametrize("raw", ["1", "true", "True", "YES", "on", " yes "])
def test_true_spellings_are_true(monkeypatch, raw):
    monkeypatch.setenv(NAME, raw)
    assert env(NAME, cast=bool) is True


@pytest.mark.parametrize("raw", ["0", "false", "FALSE", "no", "off"])
def test_false_spellings_are_false(monkeypatch, raw):
    monkeypatch.setenv(NAME, raw)
    assert env(NAME, cast=bool) is False


@pytest.mark.parametrize("raw", ["maybe", "2", "enabled"])
def test_other_bool_spellings_are_refused(monkeypatch, raw):
    monkeypatch.setenv(NAME, raw)
    pattern = (
        rf"environment variable {NAME}='{raw}': expected one of "
        r"\['0', '1', 'false', 'no', 'off', 'on', 'true', 'yes'\]"
    )
    with pytest.raises(ConfigError, match=pattern):
        env(NAME, cast=bool)


def test_missing_key_without_default_names_the_key(monkeypatch):
    unset_later(monkeypatch, NAME)
    with pytest.raises(ConfigError, match=f"environment variable {NAME} is not set"):
        env(NAME)


def test_missing_key_returns_the_default_unconverted(monkeypatch):
    unset_later(monkeypatch, NAME)
    assert env(NAME, cast=int, default=None) is None
    assert env(NAME, cast=bool, default=False) is False


def test_set_value_wins_over_the_default(monkeypatch):
    monkeypatch.setenv(NAME, "on")
    assert env(NAME, cast=bool, default=False) is True


def test_substitute_fills_every_placeholder(monkeypatch):
    monkeypatch.setenv("JOULE_TEST_USER", "joe")
    monkeypatch.setenv("JOULE_TEST_DB", "app")
    value = substitute("pg://{JOULE_TEST_USER}@db/{JOULE_TEST_DB}", where="x")
    assert value == "pg://joe@db/app"


def test_substitute_leaves_lower_case_braces_alone():
    assert substitute("/items/{id}", where="x") == "/items/{id}"


def test_substitute_names_where_and_the_unset_variable(monkeypatch):
    unset_later(monkeypatch, NAME)
    pattern = (
        f"joule.toml: database.url: environment variable {NAME} is not set "
        r"\(set it, or add it to .env\)"
    )
    with pytest.raises(ConfigError, match=pattern):
        substitute(f"{{{NAME}}}", where="joule.toml: database.url")


def test_dotenv_sets_unset_variables(tmp_path, monkeypatch):
    unset_later(monkeypatch, NAME)
    (tmp_path / ".env").write_text(f"# comment\n\n{NAME}=from-file\n")
    load_dotenv(tmp_path)
    assert env(NAME) == "from-file"


def test_dotenv_keeps_variables_already_set(tmp_path, monkeypatch):
    monkeypatch.setenv(NAME, "from-env")
    (tmp_path / ".env").write_text(f"{NAME}=from-file\n")
    load_dotenv(tmp_path)
    assert env(NAME) == "from-env"


@pytest.mark.parametrize(
    "line", [f'export {NAME}="quoted value"', f"{NAME} = 'quoted value'"]
)
def test_dotenv_accepts_export_and_quotes(tmp_path, monkeypatch, line):
    unset_later(monkeypatch, NAME)
    (tmp_path / ".env").write_text(line + "\n")
    load_dotenv(tmp_path)
    assert env(NAME) == "quoted value"


def test_dotenv_line_without_equals_names_the_line(tmp_path):
    (tmp_path / ".env").write_text("# comment\nnot a pair\n")
    with pytest.raises(ConfigError, match=r"\.env:2: expected KEY=value, got 'not a"):
        load_dotenv(tmp_path)


def test_missing_dotenv_is_fine(tmp_path):
    load_dotenv(tmp_path)
