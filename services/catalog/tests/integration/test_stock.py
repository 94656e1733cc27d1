"""Stock on the real broker and database: receipts, counts, reservations, the race.

The race test is the proof that stock never goes negative: ten orders compete for
three pieces at once and exactly three win.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from kontor_catalog.application.stock import on_order_cancelled, on_order_shipped, reserve_order
from kontor_catalog.application.unit_of_work import CatalogUnitOfWork
from kontor_catalog.context import CatalogContext
from kontor_catalog.domain.stock import BeyondStock, Requested
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.common import Address, Customer, SkuQuantity
from kontor_contracts.events.orders import (
    OrderCancelled,
    OrderLine,
    OrderPlaced,
    OrderShipped,
    ReceivedReturnLine,
    ReturnReceived,
    ShippedLine,
)
from kontor_contracts.samples import PRODUCT
from kontor_servicekit.clock import utc_now
from kontor_servicekit.context import context_of
from kontor_servicekit.store import OUTBOX
from kontor_servicekit.testing import (
    as_message,
    eventually,
    produce,
    topic_of,
    wait_for_assignment,
)

pytestmark = pytest.mark.integration


async def _add_product(catalog: Any, sku: str, stock: int) -> None:
    response = await catalog.client.post("/products", json={**PRODUCT, "sku": sku, "stock": stock})
    assert response.status_code == 201, response.text


async def _stock(catalog: Any, sku: str) -> dict[str, Any]:
    response = await catalog.client.get(f"/stock/{sku}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _transactor(catalog: Any) -> Any:
    return context_of(catalog.app, CatalogContext).transactor


async def _outbox(catalog: Any, type_: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await catalog.kit.store.db[OUTBOX].find({"type": type_}).to_list()
    return rows


def _placed(order_id: str, *lines: tuple[str, int]) -> Envelope:
    price = Decimal("10.00")
    event = OrderPlaced(
        order_id=order_id,
        order_number=f"B-{order_id[:8]}",
        customer=Customer(email="anna@example.de", name="Anna Muster"),
        shipping_address=Address(
            name="Anna Muster", street="Hauptstr. 1", postcode="10115", city="Berlin", country="DE"
        ),
        lines=[
            OrderLine(
                line_no=no,
                sku=sku,
                name=sku,
                quantity=qty,
                unit_price_net=price,
                unit_price_gross=price,
                vat_rate=Decimal("0"),
                line_net=price * qty,
                line_vat=Decimal("0"),
                line_gross=price * qty,
            )
            for no, (sku, qty) in enumerate(lines, start=1)
        ],
        currency="EUR",
        net_total=Decimal("0"),
        vat_total=Decimal("0"),
        gross_total=Decimal("0"),
        placed_at=datetime.now(UTC),
    )
    return Envelope.wrap(event, producer="orders", aggregate_id=order_id)


async def test_receipts_counts_and_levels_per_warehouse(start_service: Any) -> None:
    async with start_service("catalog") as catalog:
        await _add_product(catalog, "TEE-RED-M", 10)
        assert await _stock(catalog, "TEE-RED-M") == {
            "sku": "TEE-RED-M",
            "on_hand": 10,
            "reserved": 0,
            "available": 10,
            "warehouses": [{"warehouse": "main", "on_hand": 10, "reserved": 0, "available": 10}],
        }
        receipt = await catalog.client.post(
            "/stock/TEE-RED-M/receipts",
            json={"warehouse": "east", "quantity": 5, "reference": "LS-1"},
        )
        assert receipt.status_code == 201, receipt.text
        assert receipt.json()["on_hand"] == 15
        assert [w["warehouse"] for w in receipt.json()["warehouses"]] == ["east", "main"]

        count = await catalog.client.post(
            "/stock/TEE-RED-M/counts", json={"warehouse": "main", "counted": 8}
        )
        assert count.status_code == 201, count.text
        assert count.json()["available"] == 13
        product = await catalog.client.get("/products/TEE-RED-M")
        assert product.json()["stock"] == 13

        adjusted = [
            Envelope.from_bytes(r["value"].encode())
            for r in await _outbox(catalog, "StockAdjusted")
        ]
        payloads = sorted(
            (e.payload["reason"], e.payload["delta"], e.payload["on_hand"]) for e in adjusted
        )
        assert payloads == [("goods_receipt", 5, 5), ("inventory_count", -2, 8)]
        assert {e.aggregate_id for e in adjusted} == {"TEE-RED-M"}


async def test_stock_refusals_change_nothing(start_service: Any) -> None:
    async with start_service("catalog") as catalog:
        await _add_product(catalog, "TEE-RED-M", 3)

        async def reserve(uow: CatalogUnitOfWork) -> Any:
            return await reserve_order(uow, "o-1", [Requested("TEE-RED-M", 2)], now=utc_now())

        await _transactor(catalog).run(reserve)
        before = await _stock(catalog, "TEE-RED-M")
        unknown = await catalog.client.post("/stock/NOPE/receipts", json={"quantity": 1})
        assert unknown.status_code == 404
        assert (await catalog.client.get("/stock/NOPE")).status_code == 404
        for body in (
            {"quantity": 0},
            {"quantity": -1},
            {"quantity": 1, "warehouse": "Bad/Id"},
            {"quantity": 1, "extra": True},
        ):
            refused = await catalog.client.post("/stock/TEE-RED-M/receipts", json=body)
            assert refused.status_code == 422, body
            assert refused.json()["errors"][0]["loc"][0] == "body"
        below_reserved = await catalog.client.post("/stock/TEE-RED-M/counts", json={"counted": 1})
        assert below_reserved.status_code == 409
        assert below_reserved.json()["current_state"]["reserved"] == 2
        assert below_reserved.json()["current_state"] == before
        assert await _stock(catalog, "TEE-RED-M") == before
        assert await _outbox(catalog, "StockAdjusted") == []


async def test_ten_orders_race_for_three_pieces(start_service: Any) -> None:
    async with start_service("catalog") as catalog:
        await _add_product(catalog, "LAST-ONE", 3)
        store = catalog.kit.store
        order_ids = [f"race-{n}" for n in range(10)]

        async def place(order_id: str) -> str:
            async def work(uow: CatalogUnitOfWork) -> str:
                lines = [Requested("LAST-ONE", 1)]
                return (await reserve_order(uow, order_id, lines, now=utc_now())).status

            outcome: str = await _transactor(catalog).run(work)
            return outcome

        outcomes = await asyncio.gather(*(place(order_id) for order_id in order_ids))
        assert sorted(outcomes) == ["rejected"] * 7 + ["reserved"] * 3
        stock = await _stock(catalog, "LAST-ONE")
        assert (stock["on_hand"], stock["reserved"], stock["available"]) == (3, 3, 0)
        reservations = store.db["reservations"]
        assert await reservations.count_documents({"status": "reserved"}) == 3
        assert await reservations.count_documents({"status": "rejected"}) == 7
        assert len(await _outbox(catalog, "StockReserved")) == 3
        assert len(await _outbox(catalog, "StockReservationRejected")) == 7

        # Running the same orders again (a redelivery) reserves nothing twice.
        again = await asyncio.gather(*(place(order_id) for order_id in order_ids))
        assert again == ["duplicate"] * 10
        assert (await _stock(catalog, "LAST-ONE"))["reserved"] == 3


async def test_consumer_reserves_all_or_nothing_releases_and_restocks(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with start_service("catalog") as catalog:
        await _add_product(catalog, "TEE-RED-M", 5)
        await _add_product(catalog, "MUG-1", 1)
        await wait_for_assignment(catalog)
        reservations = catalog.kit.store.db["reservations"]
        ok_id, short_id = str(uuid.uuid4()), str(uuid.uuid4())
        ok = _placed(ok_id, ("TEE-RED-M", 2), ("MUG-1", 1))
        short = _placed(short_id, ("TEE-RED-M", 1), ("MUG-1", 1))
        order_topic = topic_of(namespace, "OrderPlaced")
        await produce(infra.kafka_bootstrap, order_topic, [as_message(ok)])
        await eventually(lambda: reservations.find_one({"_id": ok_id}))
        # redelivery of the same event and the same order under a new event id
        again = Envelope.wrap(ok.payload_model(), producer="orders", aggregate_id=ok_id)
        await produce(
            infra.kafka_bootstrap,
            order_topic,
            [as_message(ok), as_message(again), as_message(short)],
        )
        await eventually(lambda: reservations.find_one({"_id": short_id}))
        await eventually(lambda: _all_settled(catalog, 3))

        assert (await reservations.find_one({"_id": ok_id}) or {})["status"] == "reserved"
        rejected = await _outbox(catalog, "StockReservationRejected")
        assert len(rejected) == 1
        assert Envelope.from_bytes(rejected[0]["value"].encode()).payload["reasons"] == [
            {"sku": "MUG-1", "requested": 1, "available": 0}
        ]
        reserved = await _outbox(catalog, "StockReserved")
        assert len(reserved) == 1
        assert reserved[0]["key"] == ok_id
        assert sorted(
            (line["sku"], line["quantity"], line["warehouse"])
            for line in Envelope.from_bytes(reserved[0]["value"].encode()).payload["lines"]
        ) == [("MUG-1", 1, "main"), ("TEE-RED-M", 2, "main")]
        tee = await _stock(catalog, "TEE-RED-M")
        assert (tee["on_hand"], tee["reserved"], tee["available"]) == (5, 2, 3)
        assert (await _stock(catalog, "MUG-1"))["available"] == 0

        cancelled = OrderCancelled(
            order_id=ok_id, reason="customer", lines=[SkuQuantity(sku="TEE-RED-M", quantity=2)]
        )
        cancel = Envelope.wrap(cancelled, producer="orders", aggregate_id=ok_id)
        cancel_again = Envelope.wrap(cancelled, producer="orders", aggregate_id=ok_id)
        await produce(
            infra.kafka_bootstrap,
            topic_of(namespace, "OrderCancelled"),
            [as_message(cancel), as_message(cancel_again)],
        )
        await eventually(lambda: _outbox(catalog, "StockReleased"))
        await eventually(lambda: _all_settled(catalog, 5))
        assert len(await _outbox(catalog, "StockReleased")) == 1
        tee = await _stock(catalog, "TEE-RED-M")
        assert (tee["on_hand"], tee["reserved"], tee["available"]) == (5, 0, 5)
        assert (await _stock(catalog, "MUG-1"))["available"] == 1

        received = ReturnReceived(
            return_id="ret-1",
            order_id=ok_id,
            lines=[
                ReceivedReturnLine(
                    sku="TEE-RED-M", quantity=1, condition="as_new", disposition="restock"
                ),
                ReceivedReturnLine(
                    sku="MUG-1", quantity=1, condition="damaged", disposition="write_off"
                ),
                ReceivedReturnLine(
                    sku="TEE-RED-M",
                    quantity=2,
                    condition="as_new",
                    disposition="restock",
                    warehouse="east",
                ),
            ],
        )
        ret = Envelope.wrap(received, producer="orders", aggregate_id="ret-1")
        await produce(
            infra.kafka_bootstrap,
            topic_of(namespace, "ReturnReceived"),
            [as_message(ret), as_message(ret)],
        )
        await eventually(lambda: _restocked(catalog))
        tee = await _stock(catalog, "TEE-RED-M")
        assert [(w["warehouse"], w["on_hand"]) for w in tee["warehouses"]] == [
            ("east", 2),
            ("main", 6),
        ]
        assert (await _stock(catalog, "MUG-1"))["on_hand"] == 1
        restocks = [
            Envelope.from_bytes(r["value"].encode()).payload
            for r in await _outbox(catalog, "StockAdjusted")
        ]
        assert sorted(
            (p["warehouse"], p["delta"], p["reason"], p["reference"]) for p in restocks
        ) == [
            ("east", 2, "return_restock", "ret-1"),
            ("main", 1, "return_restock", "ret-1"),
        ]


async def _all_settled(catalog: Any, handled: int) -> bool:
    """``handled`` events of the reservations group went through the inbox (incl. duplicates)."""
    text = (await catalog.client.get("/metrics")).text
    total = 0.0
    for line in text.splitlines():
        if (
            line.startswith("kontor_events_handled_total")
            and "reservations" in line
            and not line.startswith("#")
        ) and ('outcome="handled"' in line or 'outcome="duplicate"' in line):
            total += float(line.rsplit(" ", 1)[1])
    return total >= handled


async def _restocked(catalog: Any) -> bool:
    return len(await _outbox(catalog, "StockAdjusted")) >= 2 and await _all_restock_seen(catalog)


async def _all_restock_seen(catalog: Any) -> bool:
    text = (await catalog.client.get("/metrics")).text
    return any(
        "restocking" in line and 'outcome="duplicate"' in line and not line.endswith(" 0.0")
        for line in text.splitlines()
        if not line.startswith("#")
    )


async def test_shipments_consume_the_reservation_once(start_service: Any) -> None:
    async with start_service("catalog") as catalog:
        await _add_product(catalog, "TEE-RED-M", 5)
        store = catalog.kit.store

        async def run(handler: Any, event: Any, order_id: str) -> None:
            envelope = Envelope.wrap(event, producer="orders", aggregate_id=order_id)

            async def work(uow: CatalogUnitOfWork) -> None:
                await handler(event, uow, envelope, clock=utc_now)

            await _transactor(catalog).run(work)

        async def reserve(uow: CatalogUnitOfWork) -> Any:
            return await reserve_order(uow, "o-1", [Requested("TEE-RED-M", 3)], now=utc_now())

        await _transactor(catalog).run(reserve)
        shipped = OrderShipped(
            order_id="o-1",
            shipment_id="s-1",
            carrier="DHL",
            lines=[ShippedLine(line_no=1, sku="TEE-RED-M", quantity=2)],
            complete=False,
        )
        await run(on_order_shipped, shipped, "o-1")
        await run(on_order_shipped, shipped, "o-1")  # the same shipment again: booked once
        tee = await _stock(catalog, "TEE-RED-M")
        assert (tee["on_hand"], tee["reserved"], tee["available"]) == (3, 1, 2)
        booked = [
            Envelope.from_bytes(r["value"].encode()).payload
            for r in await _outbox(catalog, "StockAdjusted")
        ]
        assert [(p["delta"], p["reason"], p["reference"], p["on_hand"]) for p in booked] == [
            (-2, "shipment", "s-1", 3)
        ]

        # cancelling the rest releases only what has not shipped
        cancel = OrderCancelled(order_id="o-1", reason="customer")
        await run(on_order_cancelled, cancel, "o-1")
        tee = await _stock(catalog, "TEE-RED-M")
        assert (tee["on_hand"], tee["reserved"], tee["available"]) == (3, 0, 3)
        released = await _outbox(catalog, "StockReleased")
        assert Envelope.from_bytes(released[0]["value"].encode()).payload["lines"] == [
            {"sku": "TEE-RED-M", "quantity": 1, "warehouse": "main"}
        ]

        # an order never reserved here ships from what is available ...
        unreserved = shipped.model_copy(update={"order_id": "o-2", "shipment_id": "s-2"})
        await run(on_order_shipped, unreserved, "o-2")
        assert (await _stock(catalog, "TEE-RED-M"))["on_hand"] == 1
        # ... but never below zero: that is parked for a person, and changes nothing
        too_many = OrderShipped(
            order_id="o-3",
            shipment_id="s-3",
            carrier="DHL",
            lines=[ShippedLine(line_no=1, sku="TEE-RED-M", quantity=2)],
            complete=True,
        )
        with pytest.raises(BeyondStock, match="beyond reservation and stock"):
            await run(on_order_shipped, too_many, "o-3")
        tee = await _stock(catalog, "TEE-RED-M")
        assert (tee["on_hand"], tee["reserved"], tee["available"]) == (1, 0, 1)
        assert await store.db["shipments"].count_documents({}) == 2
