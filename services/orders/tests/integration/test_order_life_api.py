"""The order's life over HTTP and the real broker: reservation saga, payment,
cancellation, partial shipping, delivery, with 404/409/422 problems.

Catalog and billing are not started: their events are produced to their topics
exactly as they would publish them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.envelope import Envelope, Event
from kontor_contracts.events.billing import PaymentReceived
from kontor_contracts.events.catalog import (
    ReservationLine,
    ReservationShortfall,
    StockReservationRejected,
    StockReserved,
)
from kontor_contracts.samples import ORDER
from kontor_servicekit.store import OUTBOX
from kontor_servicekit.testing import (
    as_message,
    eventually,
    produce,
    topic_of,
    wait_for_assignment,
)

pytestmark = pytest.mark.integration


async def seed_products(orders: Any) -> None:
    await orders.kit.store.db["catalog_products"].insert_many(
        [
            {
                "_id": sku,
                "name": sku,
                "price_net": Decimal(net),
                "vat_rate": Decimal("0.19"),
                "vat_class": "standard",
                "currency": "EUR",
                "discontinued": False,
            }
            for sku, net in (("TEE-RED-M", "19.99"), ("MUG-1", "8.00"))
        ]
    )


async def place(orders: Any, lines: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body = dict(ORDER)
    body["lines"] = lines or [{"sku": "TEE-RED-M", "quantity": 2}, {"sku": "MUG-1", "quantity": 1}]
    response = await orders.client.post("/orders", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def publish(infra: Any, namespace: str, producer: str, event: Event, key: str) -> None:
    envelope = Envelope.wrap(event, producer=producer, aggregate_id=key)
    await produce(
        infra.kafka_bootstrap, topic_of(namespace, event.event_type), [as_message(envelope)]
    )


async def status_becomes(orders: Any, order_id: str, status: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        body: dict[str, Any] = (await orders.client.get(f"/orders/{order_id}")).json()
        return body if body["status"] == status else None

    result: dict[str, Any] = await eventually(probe, timeout=30)
    return result


def reserved(order_id: str) -> StockReserved:
    return StockReserved(
        order_id=order_id,
        lines=[ReservationLine(sku="TEE-RED-M", quantity=2, warehouse="main")],
    )


def payment(order_id: str, amount: str) -> PaymentReceived:
    return PaymentReceived(
        payment_id=str(uuid.uuid4()),
        order_id=order_id,
        amount=Decimal(amount),
        currency="EUR",
        method="bank_transfer",
        received_at=datetime.now(UTC),
    )


async def outbox_types(orders: Any, order_id: str) -> list[str]:
    docs = await orders.kit.store.db[OUTBOX].find({"key": order_id}).to_list(None)
    return [d["type"] for d in docs]


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


async def test_confirm_pay_ship_in_two_parts_and_deliver(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with start_service("orders") as orders:
        await wait_for_assignment(orders)
        await seed_products(orders)
        order = await place(orders)
        oid = order["id"]

        # shipping or delivering an unconfirmed order is a conflict, nothing changes
        early = await orders.client.post(
            f"/orders/{oid}/shipments",
            json={"carrier": "DHL", "lines": [{"line_no": 1, "quantity": 1}]},
        )
        assert problem(early, 409)["current_state"] == "placed"

        # payment arrives before the reservation: applied once the order is confirmed
        await publish(infra, namespace, "billing", payment(oid, order["gross_total"]), oid)
        await eventually(
            lambda: orders.kit.store.db["orders"].find_one(
                {"_id": oid, "timeline.event": "payment_received"}
            )
        )
        await publish(infra, namespace, "catalog", reserved(oid), oid)
        body = await status_becomes(orders, oid, "paid")
        events = [e["event"] for e in body["timeline"]]
        assert events == ["placed", "payment_received", "confirmed", "paid"]
        assert body["amount_paid"] == order["gross_total"]

        first = await orders.client.post(
            f"/orders/{oid}/shipments",
            json={
                "carrier": "DHL",
                "tracking_number": "JJD01",
                "lines": [{"line_no": 1, "quantity": 1}],
            },
        )
        assert first.status_code == 201, first.text
        assert first.json()["status"] == "partially_shipped"

        too_much = await orders.client.post(
            f"/orders/{oid}/shipments",
            json={"carrier": "DHL", "lines": [{"line_no": 1, "quantity": 2}]},
        )
        err = problem(too_much, 422)
        assert err["errors"][0]["loc"] == ["body", "lines", 0, "quantity"]

        not_yet = await orders.client.post(f"/orders/{oid}/delivery", json={})
        assert problem(not_yet, 409)["current_state"] == "partially_shipped"

        second = await orders.client.post(
            f"/orders/{oid}/shipments",
            json={
                "carrier": "DPD",
                "tracking_number": "DPD02",
                "lines": [{"line_no": 1, "quantity": 1}, {"line_no": 2, "quantity": 1}],
            },
        )
        assert second.json()["status"] == "shipped"
        assert [s["carrier"] for s in second.json()["shipments"]] == ["DHL", "DPD"]

        cancel = await orders.client.post(f"/orders/{oid}/cancel", json={})
        assert problem(cancel, 409)["current_state"] == "shipped"

        delivered = await orders.client.post(f"/orders/{oid}/delivery", json={})
        assert delivered.status_code == 200, delivered.text
        body = delivered.json()
        assert body["status"] == "delivered"
        assert body["withdrawal_deadline"] is not None
        again = await orders.client.get(f"/orders/{oid}")
        assert again.json() == body

        emitted = await outbox_types(orders, oid)
        for expected in ("OrderPlaced", "OrderConfirmed", "OrderShipped", "OrderDelivered"):
            assert expected in emitted, emitted
        assert emitted.count("OrderShipped") == 2


async def test_missing_stock_rejects_and_cancel_releases(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with start_service("orders") as orders:
        await wait_for_assignment(orders)
        await seed_products(orders)
        rejected = await place(orders)
        await publish(
            infra,
            namespace,
            "catalog",
            StockReservationRejected(
                order_id=rejected["id"],
                reasons=[ReservationShortfall(sku="TEE-RED-M", requested=2, available=1)],
            ),
            rejected["id"],
        )
        body = await status_becomes(orders, rejected["id"], "rejected")
        assert body["timeline"][-1]["details"]["reason"] == "out_of_stock"
        assert "OrderRejected" in await outbox_types(orders, rejected["id"])

        # a late StockReserved for the rejected order changes nothing
        await publish(infra, namespace, "catalog", reserved(rejected["id"]), rejected["id"])
        await eventually(
            lambda: orders.kit.store.db["orders"].find_one(
                {"_id": rejected["id"], "timeline.event": "stock_reserved_ignored"}
            )
        )
        assert (await orders.client.get(f"/orders/{rejected['id']}")).json()["status"] == "rejected"

        kept = await place(orders)
        cancelled = await orders.client.post(
            f"/orders/{kept['id']}/cancel",
            json={"reason": "changed_mind", "cancelled_by": "customer"},
        )
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        doc = await orders.kit.store.db[OUTBOX].find_one(
            {"key": kept["id"], "type": "OrderCancelled"}
        )
        assert doc is not None
        twice = await orders.client.post(f"/orders/{kept['id']}/cancel", json={})
        assert problem(twice, 409)["current_state"] == "cancelled"


async def test_unknown_order_and_bad_input(start_service: Any) -> None:
    async with start_service("orders") as orders:
        for path, body in (
            ("cancel", {}),
            ("shipments", {"carrier": "DHL", "lines": [{"line_no": 1, "quantity": 1}]}),
            ("delivery", {}),
        ):
            problem(await orders.client.post(f"/orders/nope/{path}", json=body), 404)
        bad = await orders.client.post("/orders/nope/shipments", json={"carrier": "", "lines": []})
        locs = [e["loc"] for e in problem(bad, 422)["errors"]]
        assert ["body", "carrier"] in locs and ["body", "lines"] in locs
        naive = await orders.client.post(
            "/orders/x/delivery", json={"delivered_at": "2026-06-01T10:00:00"}
        )
        assert problem(naive, 422)["errors"][0]["loc"] == ["body", "delivered_at"]


async def test_the_saga_survives_a_restart_between_its_steps(
    start_service: Any, infra: Any, namespace: str
) -> None:
    """Placed while running; the catalog answers while orders is down; a new process
    of orders (same database, same consumer group) picks the answer up and confirms."""
    async with start_service("orders") as orders:
        await wait_for_assignment(orders)
        await seed_products(orders)
        order = await place(orders)
        await eventually(
            lambda: orders.kit.store.db[OUTBOX].find_one(
                {"key": order["id"], "type": "OrderPlaced", "status": {"$ne": "pending"}}
            )
        )
    await publish(infra, namespace, "catalog", reserved(order["id"]), order["id"])
    async with start_service("orders") as restarted:
        await wait_for_assignment(restarted)
        body = await status_becomes(restarted, order["id"], "confirmed")
        assert [e["event"] for e in body["timeline"]] == ["placed", "confirmed"]
        assert "OrderConfirmed" in await outbox_types(restarted, order["id"])
