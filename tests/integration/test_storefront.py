"""The Next.js storefront behind the platform's proxy, built and run for real.

The session fixture ``storefront`` has the platform install (``npm ci``),
build (``next build``) and start (``next start``) the app. Routes that need
no other service are tested in-process through the ASGI application; the
pages, which read the products service through the platform's own URL
(``JOULE_URL``), are tested against gunicorn serving the platform the
production way, on a database seeded with the catalogue.
"""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from platform_core.asgi import application
from tests.servers import Server

PREFIX = "/storefront"
ASSET_RE = re.compile(r'(?:src|href)="(/[^"]*)"')


# In-process: the platform's ASGI application in this process.


@pytest_asyncio.fixture
async def client(next_storefront):
    transport = httpx.ASGITransport(app=application, client=("10.1.2.3", 5000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver"
    ) as c:
        yield c


@pytest.mark.asyncio
async def test_api_route_answers_json_under_the_prefix(client):
    response = await client.get(f"{PREFIX}/api/health")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "service": "storefront"}


@pytest.mark.asyncio
async def test_static_asset_from_public_is_served(client):
    response = await client.get(f"{PREFIX}/logo.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert b"Joule store" in response.content


@pytest.mark.asyncio
async def test_redirect_location_keeps_the_prefix(client):
    response = await client.get(f"{PREFIX}/old")
    assert response.status_code == 307
    assert response.headers["location"] == PREFIX


@pytest.mark.asyncio
async def test_cookie_path_is_the_prefix(client):
    response = await client.get(f"{PREFIX}/api/visit")
    assert response.json() == {"visits": 1}
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("visits=1;")
    assert f"Path={PREFIX};" in cookie


@pytest.mark.asyncio
async def test_one_clients_cookie_is_never_sent_with_anothers_request(client):
    for _ in range(2):  # each request comes from a new client, with no cookie
        response = await client.get(f"{PREFIX}/api/visit")
        assert response.json() == {"visits": 1}
        client.cookies.clear()


@pytest.mark.asyncio
async def test_cookie_is_read_back_and_a_bad_value_starts_over(client):
    again = await client.get(f"{PREFIX}/api/visit", headers={"cookie": "visits=4"})
    assert again.json() == {"visits": 5}
    bad = await client.get(f"{PREFIX}/api/visit", headers={"cookie": "visits=x"})
    assert bad.json() == {"visits": 1}


@pytest.mark.asyncio
@pytest.mark.parametrize("product_id", ["abc", "0", "-1", "1e3", "9" * 30])
async def test_a_bad_product_id_is_a_404_page(client, product_id):
    response = await client.get(f"{PREFIX}/products/{product_id}")
    assert response.status_code == 404


@pytest.mark.asyncio
async def test_a_path_escaping_the_prefix_is_refused(client):
    response = await client.get(f"{PREFIX}/%2e%2e/products/products")
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_PATH"


def descendants(pid: int) -> list[int]:
    """Return the pids of every process below ``pid``."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(children.get(child, []))
    return found


def next_server_pid(npm_pid: int) -> int:
    """Return the pid of the ``next-server`` process under ``npm run start``."""
    for pid in descendants(npm_pid):
        try:
            name = Path(f"/proc/{pid}/comm").read_text()
        except OSError:
            continue
        if name.startswith("next-server"):
            return pid
    pytest.fail(f"no next-server process under pid {npm_pid}")


@pytest.mark.asyncio
async def test_killed_node_process_comes_back(client, next_storefront):
    storefront = next_storefront
    starts = storefront.starts
    os.kill(next_server_pid(storefront.process.pid), signal.SIGKILL)
    statuses = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = await client.get(f"{PREFIX}/api/health")
        statuses.add(response.status_code)
        if response.status_code == 200 and storefront.starts > starts:
            break
        assert response.status_code in (200, 502, 503), response.text
        if response.status_code != 200:
            assert response.json()["statusCode"] == response.status_code
        time.sleep(0.1)
    else:
        pytest.fail(f"the storefront did not come back: {storefront.detail}")
    assert response.json() == {"ok": True, "service": "storefront"}
    assert (await client.get(f"{PREFIX}/logo.svg")).status_code == 200


# Through a real server: gunicorn with a uvicorn worker, as in production
# (the storefront_server fixture of tests/conftest.py).


def page(server: Server, path: str) -> str:
    response = server.get(PREFIX + path)
    assert response.status_code == 200, response.text[:2000]
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def test_home_page_lists_the_products_from_the_database(storefront_server):
    html = page(storefront_server, "")
    for product_id, title in [(1, "Ethiopia Yirgacheffe 250 g"), (5, "V60 dripper")]:
        assert f'href="{PREFIX}/products/{product_id}">{title}</a>' in html


def test_a_new_product_shows_on_the_next_request(storefront_server):
    body = {
        "sku": "TEA-GEN-100",
        "title": "Genmaicha 100 g",
        "price": "8.10",
        "stock": 12,
        "categoryId": 2,
    }
    created = storefront_server.request("POST", "/products/products", json=body)
    assert created.status_code == 201, created.text
    product_id = created.json()["id"]
    html = page(storefront_server, "")
    assert f'href="{PREFIX}/products/{product_id}">Genmaicha 100 g</a>' in html


def test_detail_page_shows_one_product(storefront_server):
    html = page(storefront_server, "/products/5")
    assert "<h1>V60 dripper</h1>" in html
    assert "Ceramic, size 02" in html
    assert "SKU <!-- -->BRW-V60-02" in html or "SKU BRW-V60-02" in html
    assert "8 in stock" in html


def test_a_missing_product_is_a_404_page(storefront_server):
    response = storefront_server.get(f"{PREFIX}/products/999999")
    assert response.status_code == 404


def test_every_asset_the_page_references_is_under_the_prefix(storefront_server):
    html = page(storefront_server, "/products/1")
    paths = set(ASSET_RE.findall(html))
    assert paths and all(
        path.startswith(PREFIX + "/") or path == PREFIX for path in paths
    ), paths
    scripts = sorted(p for p in paths if p.startswith(f"{PREFIX}/_next/static/"))
    assert scripts, paths
    for path in scripts[:3] + [f"{PREFIX}/logo.svg"]:
        response = storefront_server.get(path)
        assert response.status_code == 200, path
        assert response.content, path


def test_next_static_assets_are_cacheable(storefront_server):
    html = page(storefront_server, "")
    script = next(p for p in ASSET_RE.findall(html) if p.endswith(".js"))
    response = storefront_server.get(script)
    assert "javascript" in response.headers["content-type"]
    assert "immutable" in response.headers["cache-control"]


def test_redirect_and_cookie_through_the_server(storefront_server):
    redirect = storefront_server.get(f"{PREFIX}/old")
    assert (redirect.status_code, redirect.headers["location"]) == (307, PREFIX)
    for _ in range(2):  # no client's cookie reaches another's request
        visit = storefront_server.get(f"{PREFIX}/api/visit")
        assert f"Path={PREFIX};" in visit.headers["set-cookie"]
        assert visit.json() == {"visits": 1}


@pytest.mark.asyncio
async def test_a_malformed_escape_is_a_json_400_not_a_500(client):
    response = await client.get(f"{PREFIX}/products/%zz")
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_PATH"


@pytest.mark.asyncio
async def test_built_files_are_served_from_disk_even_while_node_is_down(
    client, next_storefront
):
    built = next(next_storefront.app_dir.glob(".next/static/chunks/*.js"))
    chunk = f"{PREFIX}/_next/static/chunks/{built.name}"
    next_storefront.stop()
    try:
        logo = await client.get(f"{PREFIX}/logo.svg")
        assert logo.status_code == 200 and b"Joule store" in logo.content
        script = await client.get(chunk)
        assert script.status_code == 200
        assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
        # Node was not asked (it would have been started again on demand).
        assert next_storefront.upstream is None, next_storefront.detail
    finally:
        next_storefront.start()
        assert next_storefront.wait_ready(60), next_storefront.detail
