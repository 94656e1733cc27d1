"""An order's whole life across services, on the real broker and database.

catalog and orders run with their real consumers: OrderPlaced -> the catalog reserves
-> StockReserved -> orders confirms; PaymentReceived is produced to
``billing.payment.v1`` exactly as billing will publish it (billing does not emit it
yet); shipping in two parts, delivery, the public withdrawal, receipt with restock
(the catalog's on-hand goes back up through ReturnReceived) and the refund in
ReturnCompleted. Shipping is priced from the catalog's shipping methods
(ShippingMethodChanged -> orders' read model) and product weights. Time is moved
by replacing the orders app's clock (``OrdersContext.clock``), from which every orders
use case takes "now".
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.billing import PaymentReceived
from kontor_contracts.samples import ORDER, PRODUCT
from kontor_orders.context import OrdersContext
from kontor_servicekit.context import context_of
from kontor_servicekit.testing import (
    as_message,
    consume_all,
    eventually,
    produce,
    topic_of,
    wait_for_assignment,
)

pytestmark = pytest.mark.integration

TEE = {**PRODUCT, "weight_grams": 200}
MUG = {
    **PRODUCT,
    "sku": "MUG-1",
    "name": "Tasse",
    "price": {"net": "8.00", "currency": "EUR"},
    "weight_grams": 350,
}
DE = [{"zone_id": "de", "countries": ["DE"]}]
STANDARD = {
    "id": "standard",
    "name": "DHL Paket",
    "carrier": "DHL",
    "basis": "weight",
    "zones": DE,
    "rates": [
        {"zone_id": "de", "max_weight_grams": 2000, "price_net": "4.12"},
        {"zone_id": "de", "price_net": "5.88"},
    ],
}
EXPRESS = {
    "id": "express",
    "name": "DHL Express",
    "carrier": "DHL",
    "basis": "value",
    "zones": DE,
    "rates": [{"zone_id": "de", "price_net": "9.99"}],
}


async def products_known(orders: Any, *skus: str) -> None:
    async def known() -> bool:
        n = await orders.kit.store.db["catalog_products"].count_documents({"_id": {"$in": skus}})
        return bool(n == len(skus))

    await eventually(known, timeout=30)


async def status_becomes(orders: Any, order_id: str, status: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        body: dict[str, Any] = (await orders.client.get(f"/orders/{order_id}")).json()
        return body if body["status"] == status else None

    result: dict[str, Any] = await eventually(probe, timeout=30)
    return result


async def stock(catalog: Any, sku: str) -> dict[str, Any]:
    response = await catalog.client.get(f"/stock/{sku}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def place(orders: Any, lines: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    response = await orders.client.post("/orders", json={**ORDER, "lines": lines, **extra})
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def ship_and_deliver(orders: Any, order: dict[str, Any]) -> dict[str, Any]:
    oid = order["id"]
    for line in order["lines"]:
        response = await orders.client.post(
            f"/orders/{oid}/shipments",
            json={
                "carrier": "DHL",
                "tracking_number": f"JJD{line['line_no']}",
                "lines": [{"line_no": line["line_no"], "quantity": line["quantity"]}],
            },
        )
        assert response.status_code == 201, response.text
    delivered = await orders.client.post(f"/orders/{oid}/delivery", json={})
    assert delivered.status_code == 200, delivered.text
    result: dict[str, Any] = delivered.json()
    return result


def customer_client(orders: Any) -> httpx.AsyncClient:
    """No token at all: the withdrawal function is public."""
    return httpx.AsyncClient(transport=orders.client._transport, base_url="http://orders")


async def test_place_reserve_confirm_pay_ship_deliver_withdraw_restock_refund(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with (
        start_service("catalog") as catalog,
        start_service("orders") as orders,
        customer_client(orders) as customer,
    ):
        await wait_for_assignment(catalog)
        await wait_for_assignment(orders)
        for product in (TEE, MUG):
            assert (await catalog.client.post("/products", json=product)).status_code == 201
        for method in (STANDARD, EXPRESS):
            created = await catalog.client.post("/shipping-methods", json=method)
            assert created.status_code == 201, created.text
        await products_known(orders, "TEE-RED-M", "MUG-1")

        async def methods_known() -> bool:
            n = await orders.kit.store.db["shipping_methods"].count_documents({})
            return bool(n == 2)

        await eventually(methods_known, timeout=30)

        # place (express, priced from the catalog's method) -> catalog reserves -> confirmed
        order = await place(
            orders,
            [{"sku": "TEE-RED-M", "quantity": 3}, {"sku": "MUG-1", "quantity": 1}],
            shipping_method="express",
        )
        oid = order["id"]
        # goods at quantity x displayed gross (issue 10 point 1): 3 x 23.79 (19.99 net)
        # = 71.37 (71.36 when rounded from the net) + 1 x 9.52; express 9.99 net + 1.90 VAT
        assert [line["line_gross"] for line in order["lines"]] == ["71.37", "9.52"]
        assert order["shipping"]["gross"] == "11.89"
        assert order["gross_total"] == "92.78"
        await status_becomes(orders, oid, "confirmed")
        tee = await stock(catalog, "TEE-RED-M")
        assert (tee["on_hand"], tee["reserved"], tee["available"]) == (10, 3, 7)

        # pay, as billing will announce it
        payment = Envelope.wrap(
            PaymentReceived(
                payment_id=str(uuid.uuid4()),
                order_id=oid,
                amount=Decimal(order["gross_total"]),
                currency="EUR",
                method="bank_transfer",
                received_at=datetime.now(UTC),
            ),
            producer="billing",
            aggregate_id=oid,
        )
        await produce(
            infra.kafka_bootstrap, topic_of(namespace, "PaymentReceived"), [as_message(payment)]
        )
        await status_becomes(orders, oid, "paid")

        # ship in two parts, deliver
        first = await orders.client.post(
            f"/orders/{oid}/shipments",
            json={
                "carrier": "DHL",
                "tracking_number": "JJD1",
                "lines": [{"line_no": 1, "quantity": 3}],
            },
        )
        assert first.json()["status"] == "partially_shipped"
        second = await orders.client.post(
            f"/orders/{oid}/shipments",
            json={
                "carrier": "DPD",
                "tracking_number": "DPD2",
                "lines": [{"line_no": 2, "quantity": 1}],
            },
        )
        assert second.json()["status"] == "shipped"
        delivered = await orders.client.post(f"/orders/{oid}/delivery", json={})
        assert delivered.json()["status"] == "delivered"

        # withdraw: public, two steps
        step1 = await customer.post(
            "/withdrawals", json={"order_number": order["number"], "email": "anna@example.de"}
        )
        assert step1.status_code == 201, step1.text
        step2 = await customer.post(step1.json()["confirm_with"])
        assert step2.status_code == 201, step2.text
        return_id = step2.json()["return_id"]
        assert "eingegangen" in step2.json()["message"]

        # the catalog books both shipments out of on-hand and the reservation
        async def shipped_out() -> bool:
            tee, mug = await stock(catalog, "TEE-RED-M"), await stock(catalog, "MUG-1")
            return (tee["on_hand"], tee["reserved"], mug["on_hand"], mug["reserved"]) == (
                7,
                0,
                9,
                0,
            )

        await eventually(shipped_out, timeout=30)

        # receive: the T-shirts go back on the shelf, the mug is broken
        on_hand_before = (await stock(catalog, "TEE-RED-M"))["on_hand"]
        receipt = await orders.client.post(
            f"/returns/{return_id}/receipt",
            json={
                "lines": [
                    {"line_no": 1, "quantity": 3, "condition": "as_new", "disposition": "restock"},
                    {
                        "line_no": 2,
                        "quantity": 1,
                        "condition": "broken",
                        "disposition": "write_off",
                    },
                ]
            },
        )
        assert receipt.status_code == 200, receipt.text
        # the whole order came back: the goods as paid (71.37 + 9.52) plus what standard
        # shipping would have cost (4.12 net for 950 g, 4.90 gross), not the express
        # surcharge (§357 (2) BGB)
        assert receipt.json()["refund"] == {"amount": "85.79", "includes_shipping": True}

        async def restocked() -> bool:
            return bool((await stock(catalog, "TEE-RED-M"))["on_hand"] == on_hand_before + 3)

        await eventually(restocked, timeout=30)
        assert (await stock(catalog, "MUG-1"))["on_hand"] == 9  # written off: not restocked

        records = await consume_all(
            infra.kafka_bootstrap, topic_of(namespace, "ReturnCompleted"), 2
        )
        by_type = {json.loads(r.value)["type"]: json.loads(r.value)["payload"] for r in records}
        assert by_type["ReturnCompleted"]["refund_amount"] == "85.79"  # as the receipt said
        assert by_type["ReturnCompleted"]["return_id"] == return_id

        timeline = [
            e["event"] for e in (await orders.client.get(f"/orders/{oid}")).json()["timeline"]
        ]
        assert timeline == [
            "placed",
            "confirmed",
            "payment_received",
            "paid",
            "partially_shipped",
            "shipped",
            "delivered",
            "withdrawal_declared",
            "returned",
            "return_received",
            "refund_decided",
        ]


async def test_missing_stock_rejects_and_day_15_withdrawal_is_refused(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with (
        start_service("catalog") as catalog,
        start_service("orders") as orders,
        customer_client(orders) as customer,
    ):
        await wait_for_assignment(catalog)
        await wait_for_assignment(orders)
        assert (await catalog.client.post("/products", json=MUG)).status_code == 201
        await products_known(orders, "MUG-1")

        too_many = await place(orders, [{"sku": "MUG-1", "quantity": 11}])
        rejected = await status_becomes(orders, too_many["id"], "rejected")
        assert rejected["timeline"][-1]["details"]["reason"] == "out_of_stock"
        assert "MUG-1: requested 11, available 10" in rejected["timeline"][-1]["details"]["details"]
        assert (await stock(catalog, "MUG-1"))["reserved"] == 0

        order = await place(orders, [{"sku": "MUG-1", "quantity": 2}])
        await status_becomes(orders, order["id"], "confirmed")
        delivered = await ship_and_deliver(orders, order)
        delivered_at = datetime.fromisoformat(delivered["delivered_at"])

        # 15 days later (whatever time of day): the period ended at the end of day 14
        context_of(orders.app, OrdersContext).clock = lambda: delivered_at + timedelta(days=15)
        late = await customer.post(
            "/withdrawals", json={"order_number": order["number"], "email": "anna@example.de"}
        )
        assert late.status_code == 409, late.text
        assert late.json()["deadline"] == delivered["withdrawal_deadline"]
        assert "withdrawal period ended" in late.json()["detail"]
        assert await orders.kit.store.db["returns"].count_documents({}) == 0
