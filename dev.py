#!/usr/bin/env python3
"""The two commands of a Joule checkout: run it, test it.

    python3 dev.py run [args]   # makes .venv, installs, migrates, serves :8000
    python3 dev.py test [args]  # installs what tests need, runs them all

Needs only Python 3.11; everything else is installed into .venv on first use
and again whenever pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
EXTRAS = {"run": "", "test": "[test,mysql,ldap]"}
# Debian packages the tests need: headers that mysqlclient and python-ldap
# compile against, the OpenLDAP server of the LDAP tests and the headless
# browser of the end-to-end tests.
TEST_DEBIAN_PACKAGES = (
    "default-libmysqlclient-dev",
    "pkg-config",
    "libldap2-dev",
    "libsasl2-dev",
    "slapd",
    "ldap-utils",
    "chromium",
)


def ensure_python() -> None:
    if sys.version_info[:2] != (3, 11):
        sys.exit(
            f"Joule needs Python 3.11 (Django 5.2 LTS); this is "
            f"{sys.version.split()[0]}. Run: python3.11 dev.py ..."
        )


def ensure_venv(extras: str) -> None:
    """Create .venv and install the project with ``extras`` when needed."""
    if not PYTHON.exists():
        print("Creating .venv ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = VENV / f".installed{extras or '[run]'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"Installing joule{extras} into .venv ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-e", f"{ROOT}{extras}"], check=True)
    stamp.write_text(digest)


def ensure_debian_packages(packages: tuple[str, ...]) -> None:
    """Install missing Debian packages with apt-get (as root), once."""
    missing = [
        name
        for name in packages
        if subprocess.run(["dpkg", "-s", name], capture_output=True).returncode != 0
    ]
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit(
            f"Missing Debian packages: {' '.join(missing)}. Install them "
            f"with: sudo apt-get install {' '.join(missing)}"
        )
    print(f"Installing Debian packages: {' '.join(missing)} ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        check=True,
        env=env,
    )


def manage(*args: str) -> None:
    subprocess.run([str(PYTHON), str(ROOT / "manage.py"), *args], check=True, cwd=ROOT)


def run(args: list[str]) -> None:
    ensure_venv(EXTRAS["run"])
    manage("migrate", "--noinput", "-v", "0")
    os.execv(str(PYTHON), [str(PYTHON), str(ROOT / "manage.py"), "runserver", *args])


def test(args: list[str]) -> None:
    ensure_debian_packages(TEST_DEBIAN_PACKAGES)
    ensure_venv(EXTRAS["test"])
    os.chdir(ROOT)
    os.execv(str(PYTHON), [str(PYTHON), "-m", "pytest", *args])


def main() -> None:
    commands = {"run": run, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    ensure_python()
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
