"""Merchant views: the filtered, paginated order list and the shipping queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.catalog import ReservationLine, StockReserved
from kontor_contracts.samples import ORDER
from kontor_orders.context import OrdersContext
from kontor_servicekit.context import context_of
from kontor_servicekit.testing import as_message, eventually, produce, topic_of, wait_for_assignment

pytestmark = pytest.mark.integration

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


async def seed(orders: Any) -> None:
    await orders.kit.store.db["catalog_products"].insert_many(
        [
            {
                "_id": sku,
                "name": sku,
                "price_net": Decimal("10.00"),
                "vat_rate": Decimal("0.19"),
                "vat_class": "standard",
                "currency": "EUR",
            }
            for sku in ("TEE-RED-M", "MUG-1")
        ]
    )


async def place(orders: Any, at: datetime, sku: str, email: str) -> str:
    context_of(orders.app, OrdersContext).clock = lambda: at
    body = {
        **ORDER,
        "customer": {"email": email, "name": "X"},
        "lines": [{"sku": sku, "quantity": 2}],
    }
    response = await orders.client.post("/orders", json=body)
    assert response.status_code == 201, response.text
    order_id: str = response.json()["id"]
    return order_id


async def test_order_list_filters_and_pages(start_service: Any, infra: Any, namespace: str) -> None:
    async with start_service("orders") as orders:
        await wait_for_assignment(orders)
        await seed(orders)
        a = await place(orders, T0, "TEE-RED-M", "anna@example.de")
        b = await place(orders, T0 + timedelta(hours=1), "MUG-1", "bob@example.de")
        c = await place(orders, T0 + timedelta(hours=2), "TEE-RED-M", "anna@example.de")
        d = await place(orders, T0 + timedelta(hours=3), "MUG-1", "carla@example.de")
        await orders.client.post(f"/orders/{a}/cancel", json={})
        for oid in (c, d):
            envelope = Envelope.wrap(
                StockReserved(
                    order_id=oid, lines=[ReservationLine(sku="X", quantity=1, warehouse="main")]
                ),
                producer="catalog",
                aggregate_id=oid,
            )
            await produce(
                infra.kafka_bootstrap, topic_of(namespace, "StockReserved"), [as_message(envelope)]
            )

        async def both_confirmed() -> bool:
            n = await orders.kit.store.db["orders"].count_documents({"status": "confirmed"})
            return bool(n == 2)

        await eventually(both_confirmed)
        context_of(orders.app, OrdersContext).clock = lambda: T0 + timedelta(hours=5)
        await orders.client.post(
            f"/orders/{d}/shipments",
            json={"carrier": "DHL", "lines": [{"line_no": 1, "quantity": 1}]},
        )

        async def ids(query: str) -> list[str]:
            response = await orders.client.get(f"/orders{query}")
            assert response.status_code == 200, response.text
            return [o["id"] for o in response.json()["items"]]

        assert await ids("") == [d, c, b, a]
        assert await ids("?status=cancelled") == [a]
        assert await ids("?status=confirmed&status=placed") == [c, b]
        assert await ids("?customer=anna@example.de") == [c, a]
        assert await ids("?sku=MUG-1") == [d, b]
        window = "?from=2026-06-01T09:00:00Z&to=2026-06-01T11:00:00%2B01:00"
        assert await ids(window) == [b]  # "to" is exclusive: 10:00 UTC is c's time
        first = (await orders.client.get("/orders?page=1&page_size=3")).json()
        assert first["total"] == 4 and len(first["items"]) == 3
        assert await ids("?page=2&page_size=3") == [a]

        queue = (await orders.client.get("/orders/to-ship")).json()
        assert [o["id"] for o in queue["items"]] == [c, d]  # oldest first
        assert queue["items"][1]["status"] == "partially_shipped"
        assert queue["items"][1]["open_lines"] == [
            {"line_no": 1, "sku": "MUG-1", "name": "MUG-1", "quantity": 1}
        ]

        for bad in (
            "?status=lost",
            "?from=2026-06-01T09:00:00",
            "?page=0",
            "?from=2026-06-02T00:00:00Z&to=2026-06-01T00:00:00Z",
        ):
            response = await orders.client.get(f"/orders{bad}")
            assert response.status_code == 422, bad
            assert response.headers["content-type"] == "application/problem+json"


async def test_orders_are_found_by_number_any_case_email_and_berlin_days(
    start_service: Any,
) -> None:
    async with start_service("orders") as orders:
        await seed(orders)
        # 23:30 Berlin on 30 Nov, 00:30 Berlin on 1 Dec, 00:30 Berlin on 2 Dec (CET = UTC+1)
        late = await place(orders, datetime(2026, 11, 30, 22, 30, tzinfo=UTC), "MUG-1", "x@y.de")
        first = await place(
            orders, datetime(2026, 11, 30, 23, 30, tzinfo=UTC), "MUG-1", "Anna@Example.DE"
        )
        next_day = await place(
            orders, datetime(2026, 12, 1, 23, 30, tzinfo=UTC), "MUG-1", "anna@example.de"
        )

        async def ids(query: str) -> list[str]:
            response = await orders.client.get(f"/orders{query}")
            assert response.status_code == 200, response.text
            return [o["id"] for o in response.json()["items"]]

        assert await ids("?from=2026-12-01&to=2026-12-01") == [first]
        assert await ids("?from=2026-12-01") == [next_day, first]
        assert await ids("?to=2026-11-30") == [late]
        assert await ids("?customer=ANNA@example.de") == [next_day, first]
        assert await ids("?customer=anna@EXAMPLE.de&from=2026-12-02") == [next_day]

        number = (await orders.client.get(f"/orders/{first}")).json()["number"]
        by_number = await orders.client.get(f"/orders/{number}")
        assert by_number.status_code == 200, by_number.text
        assert by_number.json()["id"] == first
        assert by_number.json()["customer"]["email"] == "Anna@Example.DE"  # kept as given
        assert (await orders.client.get(f"/orders/{number.lower()}")).json()["id"] == first
        assert await ids(f"?number={number.lower()}") == [first]
        assert (await orders.client.get("/orders/B-1999-000001")).status_code == 404


async def test_orders_stored_before_email_keys_are_found_after_the_migration(
    start_service: Any,
) -> None:
    async with start_service("orders") as orders:
        await seed(orders)
        old = await place(orders, T0, "MUG-1", "Bob@Example.DE")
        db = orders.kit.store.db
        # what an order of the earlier version looks like: no key, migration never ran
        await db["orders"].update_one({"_id": old}, {"$unset": {"customer_email_key": ""}})
        await db["migrations"].delete_one({"_id": "orders-0002-email-keys"})
        await db["orders"].create_index([("customer.email", 1)], name="by_customer")
    async with start_service("orders") as restarted:
        found = await restarted.client.get("/orders?customer=bob@example.de")
        assert [o["id"] for o in found.json()["items"]] == [old]
        indexes = await restarted.kit.store.db["orders"].index_information()
        assert "by_customer" not in indexes and "by_customer_email" in indexes
