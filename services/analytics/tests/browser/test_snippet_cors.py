"""The tracking snippet on the shop's own pages, in a real headless Chromium: a page of
the allowed shop origin loads snippet.js from the analytics service and posts to
/collect across origins (the browser's CORS preflight is answered); a page of another
origin is refused by the browser, and nothing of it is stored (ADR 0098)."""

from __future__ import annotations

from typing import Any

import pytest
from kontor_local.runtime import free_port
from kontor_servicekit.testing import eventually, serve_on_socket, serving, settings_on
from playwright.async_api import async_playwright
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from .test_dashboard import executable

pytestmark = pytest.mark.browser

where: dict[str, str] = {}


async def shop_page(request: Request) -> HTMLResponse:
    """A product page as the shop would serve it, with Kontor's snippet."""
    analytics, client = where["analytics"], request.query_params["client"]
    return HTMLResponse(
        f"""<!doctype html><html><head><title>loading</title>
<script>window.kontorClientId = "{client}";</script>
<script src="{analytics}/collect/snippet.js" data-endpoint="{analytics}/collect"
        data-no-page-view="1"></script></head>
<body><h1>T-Shirt</h1><script>
kontor("view_item", {{currency: "EUR", value: 19.99, items: [{{item_id: "TEE-M"}}]}})
  .then(function (r) {{ document.title = "sent " + r.status; }},
        function () {{ document.title = "refused"; }});
</script></body></html>"""
    )


async def test_the_snippet_posts_from_the_allowed_shop_origin_only(
    infra: Any, namespace: str, auth_keys: Any
) -> None:
    shop_app = Starlette(routes=[Route("/", shop_page)])
    async with serving(shop_app) as shop, serving(shop_app) as stranger:
        settings = settings_on(
            infra,
            namespace,
            auth_keys,
            "analytics",
            http_port=free_port(),
            collect_allowed_origins=[shop],
        )
        async with serve_on_socket("analytics", settings) as analytics:
            where["analytics"] = analytics.url
            raw = analytics.app.state.kit.store.db["raw_events"]
            errors: list[str] = []
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=executable(), args=["--no-sandbox"]
                )
                try:
                    page = await browser.new_page()
                    page.on(
                        "console", lambda m: errors.append(m.text) if m.type == "error" else None
                    )
                    await page.goto(f"{shop}/?client=c.shop")
                    await page.wait_for_function("document.title !== 'loading'")
                    assert await page.title() == "sent 204"
                    assert errors == []

                    await page.goto(f"{stranger}/?client=c.stranger")
                    await page.wait_for_function("document.title !== 'loading'")
                    assert await page.title() == "refused"
                    assert any("CORS" in e for e in errors), errors
                finally:
                    await browser.close()

            async def stored() -> list[str]:
                return [d["client_id"] for d in await raw.find({"name": "view_item"}).to_list(None)]

            assert await eventually(stored, timeout=10) == ["c.shop"]
