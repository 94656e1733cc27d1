"""Issue 10 points 1-5 across services, on the real broker and database.

catalog prices (entered gross) -> ProductCreated -> orders' read model -> the order
(quantity x displayed gross, VAT per rate, shipping VAT split by the goods) ->
OrderPlaced -> billing's invoice, whose VAT breakdown per rate is the order's; an
intra-community supply invoiced without German VAT; and a single-use coupon, defined
by CouponDefined on ``marketing.coupon.v1`` (produced here as marketing will publish
it), used by exactly one of several concurrent orders.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.marketing import CouponDefined
from kontor_contracts.samples import ORDER
from kontor_servicekit.testing import as_message, eventually, produce, topic_of, wait_for_assignment

pytestmark = pytest.mark.integration

COFFEE = {
    "sku": "COFFEE-250",
    "name": "Kaffee 250 g",
    "price": {"gross": "14.99", "currency": "EUR"},
    "vat_class": "reduced",
    "stock": 100,
    "weight_grams": 250,
}
TEE = {
    "sku": "TEE-1",
    "name": "T-Shirt",
    "price": {"gross": "19.99", "currency": "EUR"},
    "vat_class": "standard",
    "stock": 100,
    "weight_grams": 200,
}
STANDARD = {
    "id": "standard",
    "name": "DHL Paket",
    "carrier": "DHL",
    "basis": "weight",
    "zones": [{"zone_id": "eu", "countries": ["DE", "AT"]}],
    "rates": [{"zone_id": "eu", "price_net": "4.90"}],
}
VIENNA = {
    "name": "Eva Gruber",
    "company": "Gruber Handels GmbH",
    "street": "Ringstr. 1",
    "postcode": "1010",
    "city": "Wien",
    "country": "AT",
}


async def ready(catalog: Any, orders: Any) -> None:
    for body in (COFFEE, TEE):
        created = await catalog.client.post("/products", json=body)
        assert created.status_code == 201, created.text
    assert (await catalog.client.post("/shipping-methods", json=STANDARD)).status_code == 201

    async def known() -> bool:
        db = orders.kit.store.db
        products = await db["catalog_products"].count_documents({})
        methods = await db["shipping_methods"].count_documents({})
        return bool(products == 2 and methods == 1)

    await eventually(known, timeout=30)


async def invoice_of(billing: Any, order_id: str) -> dict[str, Any]:
    async def probe() -> list[dict[str, Any]]:
        response = await billing.client.get("/invoices", params={"order_id": order_id})
        return response.json()["items"]  # type: ignore[no-any-return]

    [invoice] = await eventually(probe, timeout=30)
    return invoice  # type: ignore[no-any-return]


def rows(breakdown: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    return {str(Decimal(r["vat_rate"]).normalize()): (r["net"], r["vat"]) for r in breakdown}


async def test_gross_prices_shipping_vat_and_the_invoice_agree(start_service: Any) -> None:
    async with (
        start_service("catalog") as catalog,
        start_service("orders") as orders,
        start_service("billing") as billing,
    ):
        await wait_for_assignment(orders)
        await wait_for_assignment(billing)
        await ready(catalog, orders)
        placed = await orders.client.post(
            "/orders",
            json={
                **ORDER,
                "lines": [{"sku": "COFFEE-250", "quantity": 2}, {"sku": "TEE-1", "quantity": 3}],
                "shipping_method": "standard",
            },
        )
        assert placed.status_code == 201, placed.text
        order = placed.json()
        # 2 x 14.99 and 3 x 19.99 as displayed (they were 29.99 and 59.98)
        assert [line["line_gross"] for line in order["lines"]] == ["29.98", "59.97"]
        parts = order["shipping"]["parts"]
        assert {p["vat_rate"] for p in parts} == {"0.07", "0.19"}
        assert sum(Decimal(p["net"]) for p in parts) == Decimal("4.90")

        invoice = await invoice_of(billing, order["id"])
        assert rows(invoice["vat_breakdown"]) == rows(order["vat_breakdown"])
        assert (invoice["net_total"], invoice["vat_total"], invoice["gross_total"]) == (
            order["net_total"],
            order["vat_total"],
            order["gross_total"],
        )

        # an Austrian business: no German VAT on the order or on its invoice
        b2b = await orders.client.post(
            "/orders",
            json={
                **ORDER,
                "shipping_address": VIENNA,
                "buyer_vat_id": "ATU13585627",
                "lines": [{"sku": "COFFEE-250", "quantity": 2}, {"sku": "TEE-1", "quantity": 1}],
                "shipping_method": "standard",
            },
        )
        assert b2b.status_code == 201, b2b.text
        exempt = b2b.json()
        assert exempt["vat_treatment"] == "intra_community_supply"
        assert exempt["vat_total"] == "0.00"
        assert exempt["vat_note"].startswith("Steuerfreie innergemeinschaftliche Lieferung")
        assert exempt["vat_id_check"]["vies"] == "pending"
        exempt_invoice = await invoice_of(billing, exempt["id"])
        assert exempt_invoice["vat_total"] == "0.00"
        assert exempt_invoice["gross_total"] == exempt["gross_total"] == exempt["net_total"]
        confirmed = await orders.client.post(
            f"/orders/{exempt['id']}/vat-id-confirmation",
            json={"confirmed_by": "m.mueller", "reference": "WAPI-1"},
        )
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["vat_id_check"]["vies"] == "confirmed"

        # ATU12345678 (the example) fails its check digit
        refused = await orders.client.post(
            "/orders",
            json={
                **ORDER,
                "lines": [{"sku": "TEE-1", "quantity": 1}],
                "shipping_address": VIENNA,
                "buyer_vat_id": "ATU12345678",
            },
        )
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["loc"] == ["body", "buyer_vat_id"]


async def test_a_single_use_coupon_is_used_by_one_of_concurrent_orders(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with start_service("catalog") as catalog, start_service("orders") as orders:
        await wait_for_assignment(orders)
        await ready(catalog, orders)
        one_tee = {**ORDER, "lines": [{"sku": "TEE-1", "quantity": 1}]}
        unknown = await orders.client.post(
            "/orders", json={**one_tee, "coupon_codes": ["WINTER10"]}
        )
        assert unknown.status_code == 422, unknown.text
        assert unknown.json()["errors"][0]["loc"] == ["body", "coupon_codes", 0]

        now = datetime.now(UTC)
        coupon = Envelope.wrap(
            CouponDefined(
                code="ONCE-2026",
                kind="value",
                value=Decimal("5.00"),
                valid_from=now - timedelta(hours=1),
                valid_until=now + timedelta(days=1),
                single_use=True,
            ),
            producer="marketing",
            aggregate_id="ONCE-2026",
        )
        await produce(
            infra.kafka_bootstrap, topic_of(namespace, "CouponDefined"), [as_message(coupon)]
        )

        async def known() -> bool:
            return bool(await orders.kit.store.db["coupons"].count_documents({"_id": "ONCE-2026"}))

        await eventually(known, timeout=30)
        body = {**one_tee, "coupon_codes": ["once-2026"]}
        answers = await asyncio.gather(
            *(orders.client.post("/orders", json=body) for _ in range(6))
        )
        codes = sorted(a.status_code for a in answers)
        assert codes == [201, 422, 422, 422, 422, 422], [a.text for a in answers]
        [won] = [a.json() for a in answers if a.status_code == 201]
        assert won["gross_total"] == "14.99"  # 19.99 - 5.00
        for lost in (a for a in answers if a.status_code == 422):
            assert lost.json()["errors"][0]["loc"] == ["body", "coupon_codes", 0]
        assert await orders.kit.store.db["coupon_redemptions"].count_documents({}) == 1
        assert await orders.kit.store.db["orders"].count_documents({}) == 1
