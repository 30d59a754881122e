"""The storefront in headless Chromium, served by a real platform server.

gunicorn serves the platform as in production (``storefront_server``); the
browser loads the product list, follows a link to a product page (Next.js
navigates client-side, fetching through the proxy) and saves screenshots
under test-output/e2e/.
"""

from __future__ import annotations

import json

import pytest

from platform_core.testing import skip_or_fail
from tests.browser import chromium_path, headless_chromium
from tests.servers import ROOT

PREFIX = "/storefront"
SCREENSHOTS = ROOT / "test-output" / "e2e"
SEEDED = ["Ethiopia Yirgacheffe 250 g", "Sencha 100 g", "V60 dripper"]
LINKS = "[...document.querySelectorAll('#products a')]"


@pytest.fixture
def browser(tmp_path):
    if chromium_path() is None:
        skip_or_fail("chromium is needed for browser tests: apt-get install chromium")
    with headless_chromium(tmp_path) as browser:
        yield browser


def hydrated(selector: str) -> str:
    """Return JS true once React has hydrated the element at ``selector``."""
    return (
        f"(() => {{ const el = document.querySelector({json.dumps(selector)});"
        " return !!el && Object.keys(el).some(k => k.startsWith('__reactFiber')); })()"
    )


def test_browse_from_the_list_to_a_product(storefront_server, browser):
    browser.navigate(storefront_server.url + PREFIX)
    titles = browser.wait_for(f"{LINKS}.length >= 6 && {LINKS}.map(a => a.text)")
    assert set(SEEDED) <= set(titles), titles
    assert browser.evaluate("document.querySelector('header img').naturalWidth") == 160
    browser.screenshot(SCREENSHOTS / "storefront-products.png")

    browser.wait_for(hydrated("#products a"))
    browser.evaluate("window.__stayed = true")  # gone if the page reloads
    browser.evaluate(f"{LINKS}.find(a => a.text === 'V60 dripper').click()")
    browser.wait_for(
        "document.querySelector('#product h1')?.textContent === 'V60 dripper'"
    )
    assert browser.evaluate("location.pathname") == f"{PREFIX}/products/5"
    assert browser.evaluate("window.__stayed") is True  # client-side navigation
    text = browser.evaluate("document.querySelector('#product').innerText")
    assert "Ceramic, size 02" in text and "8 in stock" in text
    browser.screenshot(SCREENSHOTS / "storefront-product.png")
    assert (SCREENSHOTS / "storefront-product.png").stat().st_size > 1000
    assert not [e for e in browser.errors() if "favicon" not in e], browser.errors()
