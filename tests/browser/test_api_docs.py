"""``/docs`` (Swagger UI) and ``/redoc`` of catalog and orders in headless Chromium:
served from the installed package's files (no CDN), they render every operation of the
service's OpenAPI document under the page's Content-Security-Policy, with no request
to another origin and no console error."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.browser

#: Rendering waits: ReDoc takes 30 s and more for orders on the 2-core machine under load.
LOADED = 120_000


METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


def operations(url: str) -> set[tuple[str, str]]:
    """``(METHOD, path)`` of every operation in the service's OpenAPI document."""
    spec = httpx.get(f"{url}/openapi.json", timeout=10).json()
    return {(m.upper(), p) for p, item in spec["paths"].items() for m in item if m in METHODS}


# Swagger UI shows an operation under each of its tags: compare the distinct ones.
SHOWN = """[...document.querySelectorAll('.opblock')].map(b => [
  b.querySelector('.opblock-summary-method').innerText,
  b.querySelector('.opblock-summary-path').getAttribute('data-path')])"""


@pytest.mark.parametrize("service", ["catalog", "orders"])
def test_swagger_ui_renders_every_operation_offline(service: str, served: Any, watch: Any) -> None:
    url = served.services[service].url
    expected = operations(url)
    watched = watch()
    watched.page.goto(f"{url}/docs")
    watched.page.wait_for_selector(".opblock", timeout=LOADED)
    shown = {(method, path) for method, path in watched.page.evaluate(SHOWN)}
    assert shown == expected
    assert len(expected) > 5
    assert watched.violations() == []
    assert watched.other_origins(url) == []
    assert watched.console_errors == []


@pytest.mark.parametrize("service", ["catalog", "orders"])
def test_redoc_renders(service: str, served: Any, watch: Any) -> None:
    url = served.services[service].url
    title = httpx.get(f"{url}/openapi.json", timeout=10).json()["info"]["title"]
    watched = watch()
    watched.page.goto(f"{url}/redoc")
    heading = watched.page.locator("h1").first
    heading.wait_for(timeout=LOADED)
    assert title in heading.inner_text()
    # The operations' menu entries are there (ReDoc renders them after the document).
    watched.page.locator("[role=menuitem]").first.wait_for(timeout=LOADED)
    assert watched.page.locator("[role=menuitem]").count() >= len(operations(url))
    assert watched.violations() == []
    assert watched.other_origins(url) == []
    assert watched.console_errors == []
