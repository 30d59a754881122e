"""The example services on PostgreSQL and MariaDB, through a server.

They run on a fresh database of each engine (``manage.py migrate``,
``dbmigrate`` with the engine's own migration files, ``dbseed``). A superuser
logs in through the admin's login form and opens the list, the add form, a
row's page (a composite key's too) and its history for every entity; rows
inserted without an id get the next key after the seeded ones. SQLite is
covered in-process by ``tests/api/test_admin.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.contrib.admin.utils import quote

from platform_core.testing import project_of
from tests.databases import fresh_database
from tests.servers import running_server

ROOT = Path(__file__).resolve().parents[2]
CUPS = {"name": "Cups"}
ENTITIES = {
    "products/category": "1",
    "products/product": "1",
    "orders/customer": "1",
    "orders/order": "1",
    "orders/orderitem": "[1,1]",
}


def manage(env: dict, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)}:\n{done.stderr}"


def logged_in(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=10)
    page = client.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    form = {"username": "admin", "password": "secret-pw", "next": "/admin/"}
    answer = client.post("/admin/login/", data={**form, "csrfmiddlewaretoken": token})
    assert answer.status_code == 302 and answer.headers["location"] == "/admin/"
    return client


@pytest.mark.parametrize("engine", ["postgresql", "mariadb"])
def test_admin_pages_and_new_keys_of_the_example_services(engine, tmp_path):
    with fresh_database(engine, tmp_path) as url:
        project = project_of(tmp_path, ROOT / "services", ("products", "orders"))
        env = {"DATABASE_URL": url, "JOULE_ROOT": str(project)}
        manage(env, "migrate", "--noinput")
        for service, seed in (("products", "catalogue"), ("orders", "orders")):
            manage(env, "dbmigrate", service)
            manage(env, "dbseed", service, f"services/{service}/seeds/{seed}.json")
        superuser = {**env, "DJANGO_SUPERUSER_PASSWORD": "secret-pw"}
        manage(superuser, "createsuperuser", "--noinput", "--username", "admin",
               "--email", "admin@example.org")  # fmt: skip
        args = ["manage.py", "runserver", "127.0.0.1:{port}", "--noreload"]
        with running_server(engine, args, tmp_path, env) as server:
            client = logged_in(server.url)
            for entity, key in ENTITIES.items():
                base = f"/admin/{entity}/"
                row = f"{base}{quote(key)}/"
                for path in (base, f"{base}add/", f"{row}change/", f"{row}history/"):
                    assert client.get(path).status_code == 200, (engine, path)
            orders = client.get("/admin/orders/orderitem/").text
            assert f'href="/admin/orders/orderitem/{quote("[1,3]")}/change/"' in orders
            created = httpx.post(f"{server.url}/products/categories", json=CUPS)
            assert created.status_code == 201, created.text
            assert created.json()["id"] == 4  # after the 3 seeded categories
