"""The dashboard in a real headless Chromium (Playwright, the machine's browser): a token
given once in the address becomes an HttpOnly cookie and leaves the address; the page
renders the headline figures and every chart from a small seeded history, with no
console error, no CSP violation and no request to another origin; the screenshot is not
blank."""

from __future__ import annotations

import io
import os
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from kontor_analytics.api.dashboard import DASH
from kontor_contracts.registry import REGISTRY
from kontor_local.runtime import free_port
from kontor_servicekit.testing import as_message, eventually, produce, serve_on_socket, settings_on
from PIL import Image, ImageStat
from playwright.async_api import async_playwright

from ..integration.history import PRODUCTS, campaign, coupon, placed, seeded, utc_now

pytestmark = pytest.mark.browser

BERLIN = ZoneInfo("Europe/Berlin")
BROWSERS = ("/usr/bin/chromium-headless-shell", "/usr/bin/chromium")
HEADINGS = (
    "Key figures",
    "Checkout funnel",
    "Revenue over time",
    "Return rate by reason",
    "Return rate by size",
    "Cart abandonment over time",
    "Campaign ROI",
    "Lifetime value by first-order month",
    "Customer cohorts",
)
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


async def tiles_of(page: Any) -> dict[str, str]:
    """The headline tiles: name -> value shown."""
    names = await page.locator(".tile h3").all_inner_texts()
    return dict(zip(names, await page.locator(".tile .value").all_inner_texts(), strict=True))


def executable() -> str:
    chosen = os.environ.get("KONTOR_BROWSER", "")
    for candidate in (chosen, *BROWSERS) if chosen else BROWSERS:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail("no headless Chromium: run ./scripts/ensure-browser.sh", pytrace=False)


async def test_the_dashboard_renders_in_a_browser_after_a_token_login(
    infra: Any, namespace: str, auth_keys: Any, tmp_path: Path
) -> None:
    now = utc_now()
    history = seeded(now, orders=60, earlier=10, visits=60)
    settings = settings_on(
        infra,
        namespace,
        auth_keys,
        "analytics",
        http_port=free_port(),
        dashboard_cookie_secure=False,  # plain http on loopback in the test
    )
    token = auth_keys.token("analytics:read")
    async with serve_on_socket("analytics", settings) as analytics:
        messages: dict[str, list[Any]] = {}
        # a campaign with its coupon, cost 50, and two orders with it: ROI (2 x 67.58 - 50) / 50
        sent_at = now - timedelta(hours=30)
        winter = [
            *campaign("c-winter", "Winter", sent_at, coupon="WINTER10", cost="50", to=80),
            coupon("WINTER10", "c-winter"),
            placed(9001, now - timedelta(hours=5), coupons={"WINTER10": "6.76"}),
            placed(9002, now - timedelta(hours=4), coupons={"WINTER10": "6.76"}),
        ]
        for envelope in [*history.products(), *history.order_events(), *winter]:
            topic = f"{namespace}.{REGISTRY.spec_for(envelope.type, 1).topic}"
            messages.setdefault(topic, []).append(as_message(envelope))
        for topic, batch in messages.items():
            await produce(infra.kafka_bootstrap, topic, batch)
        async with httpx.AsyncClient(base_url=analytics.url) as client:
            for visit in history.visits:
                sent = await client.post(
                    "/collect?measurement_id=G-KONTOR",
                    json=visit.body(),
                    headers={"user-agent": BROWSER_UA},
                )
                assert sent.status_code == 204
            bearer = {"Authorization": f"Bearer {token}"}
            today = now.date()
            query = f"from={today - timedelta(days=3)}&to={today}"

            async def seeded_in() -> bool:
                sales = (await client.get(f"/kpis/sales?{query}", headers=bearer)).json()
                orders = next(m for m in sales["metrics"] if m["metric"] == "orders")
                return bool(orders["value"] >= 50)

            await eventually(seeded_in, timeout=60, interval=0.5)
            start = datetime.combine(today - timedelta(days=3), time(0), tzinfo=BERLIN)
            end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=BERLIN)
            kept = [o for o in history.orders if start <= o.placed_at < end and not o.rejected]

            def shirts(o: Any) -> list[Decimal]:
                return [g for sku, _, g in o.lines if PRODUCTS[sku][0] == "Shirts"]

            webshop = [o for o in kept if o.channel == "webshop" and shirts(o)]
            shirts_orders = len(webshop)
            shirts_gross = sum((g for o in webshop for g in shirts(o)), start=Decimal("0"))
            marketplace_shirts = sum(1 for o in kept if o.channel == "marketplace" and shirts(o))
            assert 0 < marketplace_shirts < shirts_orders
            assert (await client.get("/dashboard")).status_code == 401

        errors: list[str] = []
        foreign: list[str] = []
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=executable(), args=["--no-sandbox"]
            )
            try:
                context = await browser.new_context(viewport={"width": 1200, "height": 900})
                page = await context.new_page()
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on(
                    "request",
                    lambda r: None if r.url.startswith(analytics.url) else foreign.append(r.url),
                )
                await page.goto(f"{analytics.url}/dashboard?token={token}&{query}")
                assert "token=" not in page.url
                assert page.url.startswith(f"{analytics.url}/dashboard?from=")
                [cookie] = await context.cookies()
                assert (cookie["name"], cookie["httpOnly"], cookie["sameSite"]) == (
                    "kontor_dashboard",
                    True,
                    "Strict",
                )
                assert cookie["value"] not in token
                headings = await page.locator("h1, h2").all_inner_texts()
                assert list(HEADINGS) == headings
                assert await page.locator("svg.chart").count() == 8
                assert await page.locator("svg.chart rect").count() > 20
                assert "no comparison" not in await page.locator(".tile").first.inner_text()
                roi = page.locator("svg.chart", has_text="Return on each campaign")
                assert "Winter" in (await roi.text_content() or "")
                assert await roi.locator("rect").count() == 1
                first = await tiles_of(page)
                assert first["Campaign ROI"] == f"{(2 * 67.58 - 50) / 50:.1%}"
                shot = await page.screenshot(full_page=True, path=str(tmp_path / "dashboard.png"))
                await page.reload()  # the cookie alone keeps the session
                assert (await page.locator("h1").inner_text()) == "Key figures"

                # the filters: the form's choices come from the data; chosen, the tiles
                # count only the webshop's orders and only their lines of shirts
                categories = page.locator('select[name="category"] option')
                assert await categories.all_inner_texts() == [
                    "all",
                    "Accessories",
                    "Pants",
                    "Shirts",
                ]
                channels = page.locator('select[name="channel"] option')
                assert await channels.all_inner_texts() == ["all", "marketplace", "webshop"]
                await page.select_option('select[name="category"]', "Shirts")
                await page.select_option('select[name="channel"]', "webshop")
                await page.click('button[type="submit"]')
                await page.wait_for_url("**category=Shirts**")
                assert "channel=webshop" in page.url
                scope = await page.locator("#scope").inner_text()
                assert "Only category Shirts, channel webshop." in scope
                tiles = await tiles_of(page)
                assert tiles["Revenue (gross)"] == f"{shirts_gross:.2f} €"
                assert tiles["Orders"] == str(shirts_orders)
                assert tiles["Campaign ROI (whole shop)"] == first["Campaign ROI"]
                assert list(HEADINGS) == await page.locator("h1, h2").all_inner_texts()
                assert await page.locator("svg.chart").count() == 8
                await page.select_option('select[name="channel"]', "marketplace")
                await page.click('button[type="submit"]')
                await page.wait_for_url("**channel=marketplace**")
                tiles = await tiles_of(page)
                assert tiles["Orders"] == str(marketplace_shirts)
                assert tiles["Conversion rate"] == DASH  # the storefront is the webshop's
            finally:
                await browser.close()
        image = Image.open(io.BytesIO(shot)).convert("L")
        assert image.size[0] >= 1200 and image.size[1] > 900
        spread = ImageStat.Stat(image).stddev[0]
        assert spread > 10, f"the screenshot looks blank (grey-level spread {spread:.1f})"
        dark = sum(image.histogram()[:128]) / (image.size[0] * image.size[1])  # grey < 128
        assert dark > 0.01, f"too little drawn on the page ({dark:.2%} dark pixels)"
        assert errors == []
        assert foreign == []
