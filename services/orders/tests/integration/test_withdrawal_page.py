"""The withdrawal page as a browser without JavaScript uses it: it reads the HTML, fills
the forms' fields and posts them, and follows redirects. Nothing on the pages runs a
script, so this is the whole flow (issue 10 point 16): German and English, lines to
choose by product name, German errors, "Vertrag widerrufen" then a distinct "Widerruf
bestätigen", the same receipt on a second click, a receipt to download, and the
WithdrawalReceived event for support.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.catalog import ReservationLine, StockReserved
from kontor_contracts.samples import ORDER
from kontor_orders.context import OrdersContext
from kontor_servicekit.context import context_of
from kontor_servicekit.testing import (
    as_message,
    eventually,
    outbox_events,
    produce,
    topic_of,
    wait_for_assignment,
)

pytestmark = pytest.mark.integration

DELIVERED = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)  # 12:00 in Berlin; deadline 15 June 23:59
NAMES = {"TEE-RED-M": "T-Shirt Rot, Größe M", "MUG-1": "Kaffeebecher „Kontor“"}


# ------------------------------------------------------------------ a browser without JS


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # (text, name, value)


class Page(HTMLParser):
    """What a browser without JavaScript sees of a page: forms, links, text, scripts."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.links: list[tuple[str, str]] = []
        self.stylesheets: list[str] = []
        self.scripts = 0
        self.inline_styles = 0
        self.text_parts: list[str] = []
        self._button: list[str] | None = None
        self._link: str | None = None
        self.lang = ""
        self.feed(html)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.text_parts).split())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "style" in a or tag == "style":
            self.inline_styles += 1
        if any(k.startswith("on") for k in a):
            self.scripts += 1
        if tag == "html":
            self.lang = a.get("lang", "")
        if tag == "script":
            self.scripts += 1
        if tag == "link" and a.get("rel") == "stylesheet":
            self.stylesheets.append(a["href"])
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        if tag == "input" and self.forms and "name" in a:
            self.forms[-1].fields[a["name"]] = a.get("value", "")
        if tag == "button":
            self._button = [a.get("name", ""), a.get("value", "")]
            self.text_parts.append("")
        if tag == "a":
            self._link = a.get("href", "")

    def handle_data(self, data: str) -> None:
        self.text_parts.append(data)
        if self._button is not None:
            self._button.append(data)
        if self._link is not None:
            self.links.append((data.strip(), self._link))

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None and self.forms:
            name, value, *text = self._button
            self.forms[-1].buttons.append(("".join(text).strip(), name, value))
            self._button = None
        if tag == "a":
            self._link = None

    def button(self, text: str) -> Form:
        [form] = [f for f in self.forms if any(b[0] == text for b in f.buttons)]
        return form

    def button_texts(self) -> list[str]:
        return [b[0] for f in self.forms for b in f.buttons]


class Browser:
    """Posts forms as HTML does (application/x-www-form-urlencoded), follows redirects."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def open(self, url: str) -> tuple[httpx.Response, Page]:
        response = await self.client.get(url)
        return response, Page(response.text)

    async def press(self, page: Page, button: str, **typed: str) -> tuple[httpx.Response, Page]:
        form = page.button(button)
        assert form.method == "post"
        data = {**form.fields, **typed}
        for text, name, value in form.buttons:
            if text == button and name:
                data[name] = value
        response = await self.client.post(form.action, data=data)
        return response, Page(response.text)


# ------------------------------------------------------------------ the order


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def move_to(orders: Any, moment: datetime) -> None:
    context_of(orders.app, OrdersContext).clock = at(moment)


async def confirmed_order(orders: Any, infra: Any, namespace: str) -> str:
    """Anna's order of two T-shirts and a mug, placed and confirmed (nothing shipped)."""
    await orders.kit.store.db["catalog_products"].insert_many(
        [
            {
                "_id": sku,
                "name": name,
                "price_net": Decimal("10.00"),
                "vat_rate": Decimal("0.19"),
                "vat_class": "standard",
                "currency": "EUR",
            }
            for sku, name in NAMES.items()
        ]
    )
    move_to(orders, DELIVERED - timedelta(days=2))
    body = {
        **ORDER,
        "lines": [{"sku": "TEE-RED-M", "quantity": 2}, {"sku": "MUG-1", "quantity": 1}],
    }
    placed = (await orders.client.post("/orders", json=body)).json()
    oid = placed["id"]
    envelope = Envelope.wrap(
        StockReserved(
            order_id=oid, lines=[ReservationLine(sku="TEE-RED-M", quantity=2, warehouse="main")]
        ),
        producer="catalog",
        aggregate_id=oid,
    )
    await produce(
        infra.kafka_bootstrap, topic_of(namespace, "StockReserved"), [as_message(envelope)]
    )

    async def confirmed() -> bool:
        doc = await orders.kit.store.db["orders"].find_one({"_id": oid})
        return bool(doc and doc["status"] == "confirmed")

    await eventually(confirmed)
    return str(oid)


async def delivered_order(orders: Any, infra: Any, namespace: str) -> dict[str, Any]:
    oid = await confirmed_order(orders, infra, namespace)
    move_to(orders, DELIVERED - timedelta(days=1))
    lines = [{"line_no": 1, "quantity": 2}, {"line_no": 2, "quantity": 1}]
    shipped = await orders.client.post(
        f"/orders/{oid}/shipments", json={"carrier": "DHL", "lines": lines}
    )
    assert shipped.status_code == 201, shipped.text
    move_to(orders, DELIVERED)
    delivered = await orders.client.post(f"/orders/{oid}/delivery", json={})
    assert delivered.status_code == 200, delivered.text
    result: dict[str, Any] = delivered.json()
    return result


def browser(orders: Any, language: str = "de-DE,de;q=0.9,en;q=0.5") -> httpx.AsyncClient:
    """A customer's browser: no token, its language, follows redirects like a browser."""
    return httpx.AsyncClient(
        transport=orders.client._transport,
        base_url="http://orders",
        headers={"Accept-Language": language},
        follow_redirects=True,
    )


async def outbox_types(orders: Any, key: str) -> list[tuple[str, dict[str, Any]]]:
    return await outbox_events(orders, key)  # opened: the rows are sealed (ADR 0036)


def assert_no_script_no_inline_style(page: Page) -> None:
    """What a `default-src 'self'` Content-Security-Policy needs: no inline code."""
    assert page.scripts == 0 and page.inline_styles == 0
    assert page.stylesheets == ["/withdrawals/page/withdrawal.css"]


# ------------------------------------------------------------------ the tests


async def test_the_whole_withdrawal_works_without_javascript_in_german(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with start_service("orders") as orders, browser(orders) as client:
        await wait_for_assignment(orders)
        order = await delivered_order(orders, infra, namespace)
        customer = Browser(client)

        response, start = await customer.open("/withdrawals")
        assert response.status_code == 200 and start.lang == "de"
        assert_no_script_no_inline_style(start)
        css = await client.get(start.stylesheets[0])
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        assert start.button_texts() == ["Vertrag widerrufen"]  # §356a BGB: the first button

        # a wrong e-mail: a German message, the form again with what was typed
        response, wrong = await customer.press(
            start, "Vertrag widerrufen", order_number=order["number"], email="eve@example.de"
        )
        assert response.status_code == 404
        assert "Wir finden keine Bestellung" in wrong.text
        assert wrong.button("Vertrag widerrufen").fields["order_number"] == order["number"]

        move_to(orders, datetime(2026, 6, 15, 21, 0, tzinfo=UTC))  # day 14, 23:00 in Berlin
        response, choose = await customer.press(
            start,
            "Vertrag widerrufen",
            order_number=order["number"].lower(),
            email="ANNA@example.de",
        )
        assert response.status_code == 200, response.text
        assert_no_script_no_inline_style(choose)
        # the lines by product name (the SKU only beside it), all preselected
        assert NAMES["TEE-RED-M"] in choose.text and NAMES["MUG-1"] in choose.text
        assert "15.06.2026" in choose.text
        form = choose.button("Weiter")
        assert (form.fields["quantity-1"], form.fields["quantity-2"]) == ("2", "1")
        assert await orders.kit.store.db["withdrawals"].count_documents({}) == 0

        # choosing nothing: a German message, the lines again
        response, nothing = await customer.press(
            choose, "Weiter", **{"quantity-1": "0", "quantity-2": "0"}
        )
        assert response.status_code == 422
        assert "Bitte wählen Sie mindestens einen Artikel" in nothing.text
        assert nothing.button("Weiter").fields["quantity-1"] == "0"
        response, too_many = await customer.press(choose, "Weiter", **{"quantity-1": "3"})
        assert response.status_code == 422 and "höchstens" in too_many.text

        # keep the mug: withdraw from one T-shirt
        response, review = await customer.press(
            choose, "Weiter", **{"quantity-1": "1", "quantity-2": "0"}
        )
        assert response.status_code == 200, response.text
        assert_no_script_no_inline_style(review)
        assert review.button_texts() == ["Widerruf bestätigen"]  # the distinct second step
        one_shirt = f"1 \N{MULTIPLICATION SIGN} {NAMES['TEE-RED-M']}"
        assert one_shirt in review.text and NAMES["MUG-1"] not in review.text
        assert await orders.kit.store.db["returns"].count_documents({}) == 0  # not declared

        response, receipt = await customer.press(review, "Widerruf bestätigen")
        assert response.status_code == 200, response.text
        assert response.history[0].status_code == 303  # Post/Redirect/Get
        assert_no_script_no_inline_style(receipt)
        assert (
            f"Ihr Widerruf zur Bestellung {order['number']} ist am 15.06.2026 um 23:00:00 Uhr "
            "eingegangen." in receipt.text
        )
        assert one_shirt in receipt.text

        # a second click on the confirmation (later, after the deadline): the same receipt
        move_to(orders, datetime(2026, 6, 16, 8, 0, tzinfo=UTC))
        response, again = await customer.press(review, "Widerruf bestätigen")
        assert response.status_code == 200 and again.text == receipt.text
        assert await orders.kit.store.db["returns"].count_documents({}) == 1

        # the receipt to keep: a text file with the content and the time
        [(_, download)] = [link for link in receipt.links if link[0].startswith("Bestätigung")]
        kept = await client.get(download)
        assert kept.status_code == 200 and kept.headers["content-type"].startswith("text/plain")
        assert "attachment" in kept.headers["content-disposition"]
        assert "15.06.2026 um 23:00:00 Uhr" in kept.text and NAMES["TEE-RED-M"] in kept.text

        [doc] = await orders.kit.store.db["returns"].find().to_list(None)
        events = await outbox_types(orders, doc["_id"])
        assert [t for t, _ in events] == ["ReturnRequested", "WithdrawalReceived"]
        received = events[1][1]
        assert received["customer"]["email"] == "anna@example.de"
        assert received["language"] == "de" and received["order_number"] == order["number"]
        assert received["lines"] == [
            {"line_no": 1, "sku": "TEE-RED-M", "name": NAMES["TEE-RED-M"], "quantity": 1}
        ]


async def test_the_page_speaks_english_to_an_english_browser_and_refuses_late_withdrawals(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with (
        start_service("orders") as orders,
        browser(orders, "en-GB,en;q=0.9,de;q=0.3") as english,
        browser(orders) as german,
    ):
        await wait_for_assignment(orders)
        order = await delivered_order(orders, infra, namespace)
        response, start = await Browser(english).open("/withdrawals")
        assert start.lang == "en" and start.button_texts() == ["Withdraw from contract"]
        _, switched = await Browser(english).open("/withdrawals?lang=de")
        assert switched.lang == "de"

        move_to(orders, datetime(2026, 6, 15, 22, 0, tzinfo=UTC))  # day 15, 00:00 in Berlin
        response, late = await Browser(english).press(
            start, "Withdraw from contract", order_number=order["number"], email="anna@example.de"
        )
        assert response.status_code == 409
        assert "The withdrawal period of this order ended on 15 June 2026" in late.text
        _, start_de = await Browser(german).open("/withdrawals")
        response, late_de = await Browser(german).press(
            start_de, "Vertrag widerrufen", order_number=order["number"], email="anna@example.de"
        )
        assert response.status_code == 409 and late_de.lang == "de"
        assert (
            "Die Widerrufsfrist für diese Bestellung ist am 15.06.2026 abgelaufen" in late_de.text
        )
        assert "withdrawal period" not in late_de.text

        unknown = await german.get("/withdrawals/nope/receipt")
        assert unknown.status_code == 404 and "Diesen Widerruf kennen wir nicht" in unknown.text
        stale = await german.post("/withdrawals/page/nope/confirm", data={"lang": "de"})
        assert stale.status_code == 404 and "Diesen Widerruf kennen wir nicht" in stale.text


async def test_before_shipment_the_page_withdraws_the_whole_order_and_cancels_it(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with (
        start_service("orders") as orders,
        browser(orders) as client,
        browser(orders, "en-GB,en;q=0.9") as english,
    ):
        await wait_for_assignment(orders)
        oid = await confirmed_order(orders, infra, namespace)
        number = (await orders.client.get(f"/orders/{oid}")).json()["number"]
        customer = Browser(client)

        _, start = await customer.open("/withdrawals")
        response, whole = await customer.press(
            start, "Vertrag widerrufen", order_number=number, email="anna@example.de"
        )
        assert response.status_code == 200, response.text
        assert_no_script_no_inline_style(whole)
        assert "ist noch nicht versandt" in whole.text and "wird storniert" in whole.text
        form = whole.button("Weiter")
        assert not [f for f in form.fields if f.startswith("quantity-")]  # nothing to choose
        assert NAMES["TEE-RED-M"] in whole.text and NAMES["MUG-1"] in whole.text

        response, review = await customer.press(whole, "Weiter")
        assert response.status_code == 200, response.text
        assert review.button_texts() == ["Widerruf bestätigen"]
        assert "mit dem Widerruf wird sie storniert" in review.text
        assert (await orders.client.get(f"/orders/{oid}")).json()["status"] == "confirmed"

        response, receipt = await customer.press(review, "Widerruf bestätigen")
        assert response.status_code == 200 and response.history[0].status_code == 303
        assert f"Ihre Bestellung {number} ist storniert." in receipt.text
        assert f"2 \N{MULTIPLICATION SIGN} {NAMES['TEE-RED-M']}" in receipt.text
        order = (await orders.client.get(f"/orders/{oid}")).json()
        assert order["status"] == "cancelled"
        _, again = await customer.press(review, "Widerruf bestätigen")
        assert again.text == receipt.text

        [(_, download)] = [link for link in receipt.links if link[0].startswith("Bestätigung")]
        kept = await client.get(download)
        assert f"Ihre Bestellung {number} ist storniert." in kept.text

        [doc] = await orders.kit.store.db["withdrawals"].find().to_list(None)
        shown_en = await english.get(f"/withdrawals/{doc['_id']}/receipt")
        assert f"Your order {number} is cancelled." in shown_en.text

        [r] = await orders.kit.store.db["returns"].find().to_list(None)
        assert (r["status"], r["cancelled_order"]) == ("completed", True)
        # nothing was paid: no ReturnCompleted; the receipt for support says it cancelled
        [(kind, received)] = await outbox_types(orders, r["_id"])
        assert kind == "WithdrawalReceived" and received["cancels_order"] is True
        cancelled = [t for t, _ in await outbox_types(orders, oid) if t == "OrderCancelled"]
        assert cancelled == ["OrderCancelled"]


async def test_before_shipment_a_second_json_confirmation_answers_the_same_cancellation(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with start_service("orders") as orders:
        await wait_for_assignment(orders)
        oid = await confirmed_order(orders, infra, namespace)
        number = (await orders.client.get(f"/orders/{oid}")).json()["number"]
        pending = await orders.client.post(
            "/withdrawals", json={"order_number": number, "email": "anna@example.de"}
        )
        assert pending.status_code == 201 and pending.json()["cancels_order"] is True
        confirm = pending.json()["confirm_with"]
        first = await orders.client.post(confirm)
        assert first.status_code == 201, first.text
        assert first.json()["order_cancelled"] is True
        assert first.json()["received_at"].endswith("Z")
        move_to(orders, DELIVERED + timedelta(days=40))
        second = await orders.client.post(confirm)
        assert second.status_code == 201 and second.json() == first.json()
        order = (await orders.client.get(f"/orders/{oid}")).json()
        assert order["status"] == "cancelled"
        kinds = [t for t, _ in await outbox_types(orders, oid)]
        assert kinds.count("OrderCancelled") == 1
