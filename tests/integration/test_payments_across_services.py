"""Money reaches the order: catalog -> orders -> billing's invoice -> ``POST /payments``
(partial, then the rest) -> PaymentReceived -> orders' ``amount_paid`` and ``paid``.

On the real broker and database: the order is only ``paid`` if billing's event crossed
Kafka, and a retried POST (same Idempotency-Key) books nothing twice.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.samples import ORDER, PRODUCT
from kontor_servicekit.testing import eventually, wait_for_assignment

pytestmark = pytest.mark.integration


async def test_an_invoice_paid_in_two_parts_makes_the_order_paid(start_service: Any) -> None:
    async with (
        start_service("catalog") as catalog,
        start_service("orders") as orders,
        start_service("billing") as billing,
    ):
        await wait_for_assignment(orders)
        await wait_for_assignment(billing)
        assert (await catalog.client.post("/products", json=PRODUCT)).status_code == 201

        async def order_accepted() -> Any:
            response = await orders.client.post("/orders", json=ORDER)
            return response.json() if response.status_code == 201 else None

        order = await eventually(order_accepted, timeout=30, interval=0.2)

        async def open_receivable() -> Any:
            found = (await billing.client.get("/receivables", params={"status": "open"})).json()[
                "items"
            ]
            return next((r for r in found if r["order_id"] == order["id"]), None)

        receivable = await eventually(open_receivable, timeout=30)
        assert receivable["gross_total"] == order["gross_total"] == "47.58"
        assert receivable["open_amount"] == "47.58"
        number = receivable["invoice_number"]

        async def confirmed() -> Any:
            body = (await orders.client.get(f"/orders/{order['id']}")).json()
            return body if body["status"] == "confirmed" else None

        await eventually(confirmed, timeout=30)

        key = {"Idempotency-Key": str(uuid.uuid4())}
        part = {"amount": "20.00", "method": "cash", "date": "2026-01-01", "invoice_number": number}
        first = await billing.client.post("/payments", json=part, headers=key)
        assert first.status_code == 201, first.text
        assert first.json()["receivable"]["status"] == "partially_paid"
        assert first.json()["receivable"]["open_amount"] == "27.58"
        again = await billing.client.post("/payments", json=part, headers=key)
        assert again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()

        async def amount_paid(expected: str) -> Any:
            body = (await orders.client.get(f"/orders/{order['id']}")).json()
            return body if Decimal(body["amount_paid"]) == Decimal(expected) else None

        partly = await eventually(lambda: amount_paid("20.00"), timeout=30)
        assert partly["status"] == "confirmed"

        rest = {
            "amount": "27.58",
            "method": "bank_transfer",
            "date": "2026-01-02",
            "order_id": order["id"],
            "reference": f"{number} {order['number']}",
        }
        second = await billing.client.post("/payments", json=rest)
        assert second.status_code == 201, second.text
        assert second.json()["receivable"]["status"] == "paid"
        assert Decimal(second.json()["receivable"]["open_amount"]) == 0

        paid = await eventually(lambda: amount_paid("47.58"), timeout=30)
        assert paid["status"] == "paid"

        payments = (await billing.client.get("/payments", params={"order_id": order["id"]})).json()
        assert payments["total"] == 2
        assert [p["amount"] for p in payments["items"]] == ["20.00", "27.58"]
        unknown = await billing.client.post(
            "/payments", json={**part, "invoice_number": "RE-1999-000001"}
        )
        assert unknown.status_code == 404
