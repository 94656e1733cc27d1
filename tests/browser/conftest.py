"""The browser tier: the pages in a real headless Chromium, against services on sockets.

One browser for the tier (Playwright driving the machine's Chromium by
``executable_path``: Playwright's own browser download is not used) and one set of
services for it: orders and catalog served by uvicorn as in production, on the
session's broker and database, in a thread with its own event loop (Playwright's sync
API runs in the test's thread). Both are package-scoped: Playwright's sync API keeps
an event loop running in the test's thread while it is open, so it must be closed
before the asyncio tests of the other tiers run in the same session.

``make test`` and ``make test-browser`` run ``scripts/ensure-browser.sh`` first, which
finds or installs Debian's ``chromium-headless-shell`` and passes its path as
``KONTOR_BROWSER``. Without a browser the tests fail (never skip) and say why.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.catalog import ReservationLine, StockReserved
from kontor_contracts.registry import REGISTRY
from kontor_contracts.samples import ORDER
from kontor_local.pytest_plugin import new_namespace
from kontor_local.runtime import free_port
from kontor_servicekit.testing import (
    ServedService,
    as_message,
    eventually,
    produce,
    serve_on_socket,
    settings_on,
)
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

T = TypeVar("T")

BROWSERS = ("/usr/bin/chromium-headless-shell", "/usr/bin/chromium")
SERVICES = ("orders", "catalog")

#: In every document, before its own scripts: remember each CSP violation.
RECORD_VIOLATIONS = (
    "document.addEventListener('securitypolicyviolation', e => {"
    " (window.__v = window.__v || []).push(e.violatedDirective + ' ' + e.blockedURI); });"
)


def browser_executable() -> str:
    """The Chromium to drive: ``KONTOR_BROWSER`` if set, else one Debian installs."""
    chosen = os.environ.get("KONTOR_BROWSER", "")
    for candidate in (chosen, *BROWSERS) if chosen else BROWSERS:
        if Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(
        "no headless Chromium for the browser tests: KONTOR_BROWSER="
        f"{chosen!r}, none of {', '.join(BROWSERS)} exists. Run ./scripts/ensure-browser.sh "
        "(installs Debian's chromium-headless-shell; needs root or sudo) or use make test.",
        pytrace=False,
    )


class ServiceThread:
    """An event loop in a thread that serves the session's services on sockets."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.stack = AsyncExitStack()
        self.services: dict[str, ServedService] = {}

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        """Run ``coro`` on the services' loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _start(self, name: str, settings: Any) -> None:
        self.services[name] = await self.stack.enter_async_context(serve_on_socket(name, settings))

    def start(self, name: str, settings: Any) -> ServedService:
        self.run(self._start(name, settings))
        return self.services[name]

    def stop(self) -> None:
        try:
            self.run(self.stack.aclose(), timeout=60)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)


@pytest.fixture(scope="package")
def served(infra: Any, auth_keys: Any) -> Iterator[ServiceThread]:
    """Orders and catalog on real sockets for the whole tier (one namespace)."""
    namespace = new_namespace()
    services = ServiceThread()
    try:
        for name in SERVICES:
            services.start(
                name, settings_on(infra, namespace, auth_keys, name, http_port=free_port())
            )
        yield services
    finally:
        services.stop()


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One headless Chromium for the session (``--no-sandbox``: the tests may run as root)."""
    launched = playwright.chromium.launch(
        executable_path=browser_executable(), args=["--no-sandbox"]
    )
    try:
        yield launched
    finally:
        launched.close()


@dataclass
class Watched:
    """A page and what the browser saw on it: every request, console errors, and the
    Content-Security-Policy violations, both as the page's ``securitypolicyviolation``
    events (JavaScript on) and as Chromium's own CSP issues over CDP (also with
    JavaScript off, where no listener can run)."""

    context: BrowserContext
    page: Page
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    csp_issues: list[str] = field(default_factory=list)

    java_script: bool = True

    def violations(self) -> list[str]:
        """The violations the current document's listener recorded (none can run with
        JavaScript off) and every CSP issue Chromium reported since the page opened."""
        recorded: list[str] = self.page.evaluate("window.__v || []") if self.java_script else []
        return recorded + [f"(chromium) {issue}" for issue in self.csp_issues]

    def other_origins(self, *origins: str) -> list[str]:
        """Requests that left for another origin than ``origins`` (data: URLs stay)."""
        own = tuple(f"{o}/" for o in origins) + tuple(f"blob:{o}/" for o in origins)
        return sorted({u for u in self.requests if not u.startswith((*own, "data:"))})


def csp_issue(event: dict[str, Any]) -> str | None:
    issue = event.get("issue", {})
    if issue.get("code") != "ContentSecurityPolicyIssue":
        return None
    details = issue.get("details", {}).get("contentSecurityPolicyIssueDetails", {})
    return f"{details.get('violatedDirective', '?')} {details.get('blockedURL', '')}".strip()


@pytest.fixture
def watch(browser: Browser) -> Iterator[Any]:
    """``watch(java_script=True, **context_options) -> Watched``: a new context and page
    that record what :class:`Watched` lists; closed after the test."""
    contexts: list[BrowserContext] = []

    def open_page(*, java_script: bool = True, **options: Any) -> Watched:
        context = browser.new_context(java_script_enabled=java_script, **options)
        contexts.append(context)
        page = context.new_page()
        watched = Watched(context, page, java_script=java_script)
        page.on("request", lambda r: watched.requests.append(r.url))
        page.on(
            "console",
            lambda m: watched.console_errors.append(m.text) if m.type == "error" else None,
        )
        page.add_init_script(RECORD_VIOLATIONS)
        cdp = context.new_cdp_session(page)

        def on_issue(event: dict[str, Any]) -> None:
            found = csp_issue(event)
            if found is not None:
                watched.csp_issues.append(found)

        cdp.on("Audits.issueAdded", on_issue)
        cdp.send("Audits.enable")
        return watched

    yield open_page
    for context in contexts:
        context.close()


NAMES = {"TEE-RED-M": "T-Shirt Rot, Größe M", "MUG-1": "Kaffeebecher „Kontor“"}


async def delivered_order(orders: ServedService, token: str, kafka_bootstrap: str) -> str:
    """An order of Anna's (two T-shirts and a mug), placed, reserved, shipped and
    delivered now over orders' HTTP API; its number. Catalog's part (the product
    read model, the reservation) is played directly: orders runs in a namespace of
    its own, so the catalog of this tier does not answer its events."""
    for sku, name in NAMES.items():  # the read model of catalog's products (once)
        product = {
            "name": name,
            "price_net": Decimal("10.00"),
            "vat_rate": Decimal("0.19"),
            "vat_class": "standard",
            "currency": "EUR",
        }
        await orders.kit.store.db["catalog_products"].replace_one(
            {"_id": sku}, product, upsert=True
        )
    lines = [{"sku": "TEE-RED-M", "quantity": 2}, {"sku": "MUG-1", "quantity": 1}]
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=orders.url, headers=headers, timeout=30) as client:
        placed = await client.post("/orders", json={**ORDER, "lines": lines})
        assert placed.status_code in (200, 201), placed.text
        oid, number = placed.json()["id"], placed.json()["number"]
        reserved = StockReserved(
            order_id=oid,
            lines=[
                ReservationLine(sku=line["sku"], quantity=line["quantity"], warehouse="main")
                for line in lines
            ],
        )
        envelope = Envelope.wrap(reserved, producer="catalog", aggregate_id=oid)
        topic = f"{orders.settings.topic_prefix}{REGISTRY.spec_for('StockReserved', 1).topic}"
        await produce(kafka_bootstrap, topic, [as_message(envelope)])

        async def confirmed() -> bool:
            return (await client.get(f"/orders/{oid}")).json().get("status") == "confirmed"

        await eventually(confirmed)
        shipment = {
            "carrier": "DHL",
            "lines": [{"line_no": 1, "quantity": 2}, {"line_no": 2, "quantity": 1}],
        }
        shipped = await client.post(f"/orders/{oid}/shipments", json=shipment)
        assert shipped.status_code == 201, shipped.text
        delivered = await client.post(f"/orders/{oid}/delivery", json={})
        assert delivered.status_code == 200, delivered.text
    return str(number)


@pytest.fixture
def product_names() -> dict[str, str]:
    """The names of the products of :func:`anna_order`, by SKU."""
    return dict(NAMES)


@pytest.fixture
def anna_order(served: ServiceThread, infra: Any, auth_keys: Any) -> str:
    """The number of a new delivered order of anna@example.de, for the withdrawal page."""
    orders = served.services["orders"]
    return served.run(delivered_order(orders, auth_keys.token(), infra.kafka_bootstrap))
