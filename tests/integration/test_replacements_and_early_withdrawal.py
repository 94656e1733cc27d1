"""Issue 10 points 7 and 9 across catalog and orders, on the real broker and database.

- A withdrawal before shipment cancels the order: OrderCancelled makes the catalog
  release the reservation (reserved goes back to 0), and the payment is refunded
  (ReturnCompleted).
- A complaint resolved by replacement is a shipment: ReplacementRequested makes the
  catalog reserve and book the piece out (on hand goes down) and answer
  ReplacementStockBooked, which resolves the complaint; without stock it answers
  ReplacementStockRejected and the complaint is open again.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.billing import PaymentReceived
from kontor_contracts.samples import PRODUCT
from kontor_servicekit.testing import (
    as_message,
    consume_all,
    eventually,
    produce,
    topic_of,
    wait_for_assignment,
)

from tests.integration.test_order_life import (
    customer_client,
    place,
    products_known,
    ship_and_deliver,
    status_becomes,
    stock,
)

pytestmark = pytest.mark.integration

MUG = {**PRODUCT, "sku": "MUG-1", "name": "Tasse", "stock": 2}


async def test_a_withdrawal_before_shipment_releases_the_stock_and_refunds(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with (
        start_service("catalog") as catalog,
        start_service("orders") as orders,
        customer_client(orders) as customer,
    ):
        await wait_for_assignment(catalog)
        await wait_for_assignment(orders)
        assert (await catalog.client.post("/products", json=PRODUCT)).status_code == 201
        await products_known(orders, "TEE-RED-M")
        order = await place(orders, [{"sku": "TEE-RED-M", "quantity": 3}])
        await status_becomes(orders, order["id"], "confirmed")
        assert (await stock(catalog, "TEE-RED-M"))["reserved"] == 3
        payment = Envelope.wrap(
            PaymentReceived(
                payment_id=str(uuid.uuid4()),
                order_id=order["id"],
                amount=Decimal(order["gross_total"]),
                currency="EUR",
                method="paypal",
                received_at=datetime.now(UTC),
            ),
            producer="billing",
            aggregate_id=order["id"],
        )
        await produce(
            infra.kafka_bootstrap, topic_of(namespace, "PaymentReceived"), [as_message(payment)]
        )
        await status_becomes(orders, order["id"], "paid")

        # the public two steps, as for a delivered order (issue: 409 "it is confirmed")
        step1 = await customer.post(
            "/withdrawals", json={"order_number": order["number"], "email": "anna@example.de"}
        )
        assert step1.status_code == 201, step1.text
        assert step1.json()["cancels_order"] is True and step1.json()["deadline"] is None
        step2 = await customer.post(step1.json()["confirm_with"])
        assert step2.status_code == 201, step2.text
        confirmation = step2.json()
        assert confirmation["order_cancelled"] is True
        assert confirmation["refund"]["amount"] == order["gross_total"]

        cancelled = await status_becomes(orders, order["id"], "cancelled")
        assert [e["event"] for e in cancelled["timeline"]][-4:] == [
            "withdrawal_declared",
            "cancelled",
            "refund_due",
            "refund_decided",
        ]

        async def released() -> bool:
            tee = await stock(catalog, "TEE-RED-M")
            return (tee["on_hand"], tee["reserved"], tee["available"]) == (10, 0, 10)

        await eventually(released, timeout=30)
        # the return topic carries the refund and the receipt for support (issue 10 point 16)
        records = await consume_all(
            infra.kafka_bootstrap, topic_of(namespace, "ReturnCompleted"), 2
        )
        published = {json.loads(r.value)["type"]: json.loads(r.value)["payload"] for r in records}
        assert set(published) == {"ReturnCompleted", "WithdrawalReceived"}
        completed = published["ReturnCompleted"]
        assert (completed["return_id"], completed["refund_amount"]) == (
            confirmation["return_id"],
            order["gross_total"],
        )
        received = published["WithdrawalReceived"]
        assert (received["return_id"], received["cancels_order"]) == (
            confirmation["return_id"],
            True,
        )


async def test_a_replacement_is_booked_out_of_stock_or_refused_without_it(
    start_service: Any,
) -> None:
    async with start_service("catalog") as catalog, start_service("orders") as orders:
        await wait_for_assignment(catalog)
        await wait_for_assignment(orders)
        assert (await catalog.client.post("/products", json=MUG)).status_code == 201
        await products_known(orders, "MUG-1")
        order = await place(orders, [{"sku": "MUG-1", "quantity": 1}])
        await status_becomes(orders, order["id"], "confirmed")
        await ship_and_deliver(orders, order)

        async def on_hand_is(n: int) -> bool:
            return bool((await stock(catalog, "MUG-1"))["on_hand"] == n)

        await eventually(lambda: on_hand_is(1), timeout=30)  # the order's piece left

        async def complaint_becomes(complaint_id: str, status: str) -> dict[str, Any]:
            async def probe() -> dict[str, Any] | None:
                body: dict[str, Any] = (
                    await orders.client.get(f"/complaints/{complaint_id}")
                ).json()
                return body if body["status"] == status else None

            found: dict[str, Any] = await eventually(probe, timeout=30)
            return found

        async def replace(complaint_id: str) -> None:
            response = await orders.client.post(
                f"/complaints/{complaint_id}/resolution",
                json={"remedy": "replacement", "carrier": "DHL", "tracking_number": "R1"},
            )
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "replacement_pending"

        filed = await orders.client.post(
            "/complaints",
            json={"order_id": order["id"], "line_no": 1, "description": "Henkel ab"},
        )
        assert filed.status_code == 201, filed.text
        first = filed.json()["id"]
        await replace(first)
        await complaint_becomes(first, "resolved")
        mug = await stock(catalog, "MUG-1")
        assert (mug["on_hand"], mug["reserved"], mug["available"]) == (0, 0, 0)

        # the replacement broke too; no mug is left: the complaint opens again
        second = (
            await orders.client.post(
                "/complaints",
                json={"order_id": order["id"], "line_no": 1, "description": "wieder"},
            )
        ).json()["id"]
        await replace(second)
        reopened = await complaint_becomes(second, "open")
        assert reopened["replacement_refused"] == "MUG-1: requested 1, available 0"
        assert reopened["resolution"] is None
        assert (await stock(catalog, "MUG-1"))["on_hand"] == 0
        timeline = (await orders.client.get(f"/orders/{order['id']}")).json()["timeline"]
        assert [e["event"] for e in timeline][-4:] == [
            "replacement_shipped",
            "complaint_filed",
            "replacement_requested",
            "replacement_refused",
        ]
