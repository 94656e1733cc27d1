"""Quotes (issue 11) across billing, catalog and orders on the real broker and database.

catalog's ProductCreated -> billing's read model -> a quote at 10 % off -> the catalog's
price goes up -> the buyer accepts -> QuoteAccepted -> orders places the order at the
quoted price (not the new one) -> the catalog reserves, orders confirms -> billing
invoices it. And a quote whose day has passed is refused (409) and expired by the
sweeper on billing's clock, which the test moves.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_billing.context import BillingContext
from kontor_orders.application.quote_orders import order_id_of_quote
from kontor_servicekit.clock import BERLIN, FakeClock, utc_now
from kontor_servicekit.context import context_of
from kontor_servicekit.testing import eventually, wait_for_assignment

pytestmark = pytest.mark.integration

TEE = {
    "sku": "QUOTE-TEE",
    "name": "T-Shirt rot, M",
    "price": {"gross": "19.99", "currency": "EUR"},
    "vat_class": "standard",
    "stock": 100,
}
QUOTE = {
    "customer": {"email": "einkauf@example.de", "name": "Erika Einkauf"},
    "billing_address": {
        "name": "Erika Einkauf",
        "company": "Beispiel GmbH",
        "street": "Hauptstr. 1",
        "postcode": "10115",
        "city": "Berlin",
        "country": "DE",
    },
    "lines": [{"sku": "QUOTE-TEE", "quantity": 3}],
    "discount_percent": "10",
    "notes": "Lieferung binnen 10 Werktagen.",
}


async def gross_known(service: Any, collection: str, gross: str) -> bool:
    doc = await service.kit.store.db[collection].find_one({"_id": "QUOTE-TEE"})
    return bool(doc and doc.get("price_gross") == Decimal(gross))


async def test_an_accepted_quote_is_ordered_and_invoiced_at_its_price_an_expired_one_refused(
    start_service: Any,
) -> None:
    async with (
        start_service("catalog") as catalog,
        start_service("orders") as orders,
        start_service("billing", quote_sweep_interval_s=0.2) as billing,
    ):
        await wait_for_assignment(orders)
        await wait_for_assignment(billing)
        assert (await catalog.client.post("/products", json=TEE)).status_code == 201
        await eventually(lambda: gross_known(billing, "quote_catalog", "19.99"))

        made = await billing.client.post("/quotes", json=QUOTE)
        assert made.status_code == 201, made.text
        quote = made.json()
        number = quote["number"]
        assert number.startswith(f"AN-{utc_now().astimezone(BERLIN).year}-")
        assert quote["state"] == "open"
        assert [(x["unit_price_gross"], x["quantity"]) for x in quote["lines"]] == [("17.99", 3)]
        pdf = await billing.client.get(f"/quotes/{number}/pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

        # the catalog's price goes up after the quote: both read models see it
        repriced = await catalog.client.put(
            "/products/QUOTE-TEE/price", json={"gross": "24.99", "currency": "EUR"}
        )
        assert repriced.status_code == 200, repriced.text
        await eventually(lambda: gross_known(billing, "quote_catalog", "24.99"))
        await eventually(lambda: gross_known(orders, "catalog_products", "24.99"))

        accepted = await billing.client.post(f"/quotes/{number}/accept")
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["state"] == "accepted"
        again = await billing.client.post(f"/quotes/{number}/accept")
        assert again.status_code == 409

        order_id = order_id_of_quote(number)

        async def confirmed() -> dict[str, Any] | None:
            response = await orders.client.get(f"/orders/{order_id}")
            body: dict[str, Any] = response.json()
            return body if response.status_code == 200 and body["status"] == "confirmed" else None

        order = await eventually(confirmed, timeout=30)
        assert order["quote_number"] == number
        assert [(x["unit_price_gross"], x["quantity"]) for x in order["lines"]] == [("17.99", 3)]
        assert order["gross_total"] == "53.97"  # 3 x 17.99, not 3 x 24.99

        async def invoiced() -> list[dict[str, Any]]:
            response = await billing.client.get("/invoices", params={"order_id": order_id})
            return response.json()["items"]  # type: ignore[no-any-return]

        [invoice] = await eventually(invoiced, timeout=30)
        assert invoice["gross_total"] == order["gross_total"]
        assert (await billing.client.get("/quotes", params={"state": "accepted"})).json()[
            "total"
        ] == 1

        # a quote valid through today: tomorrow it cannot be accepted, and it expires
        today = utc_now().astimezone(BERLIN).date().isoformat()
        short = await billing.client.post("/quotes", json={**QUOTE, "valid_until": today})
        assert short.status_code == 201, short.text
        late = short.json()["number"]
        context = context_of(billing.app, BillingContext)
        context.clock = FakeClock(utc_now() + timedelta(days=2))
        refused = await billing.client.post(f"/quotes/{late}/accept")
        assert refused.status_code == 409, refused.text
        assert "expired" in refused.json()["detail"]

        async def expired() -> bool:
            response = await billing.client.get(f"/quotes/{late}")
            return bool(response.json()["state"] == "expired")

        await eventually(expired, timeout=10)
        # nothing was ordered from it
        assert (await orders.client.get(f"/orders/{order_id_of_quote(late)}")).status_code == 404
