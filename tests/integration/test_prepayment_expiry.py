"""A prepayment order that is never paid gives its stock back (issue 10 point 14), across
catalog and orders on the real broker and database: the orders sweeper cancels it
after ``prepayment_days`` (OrderCancelled, reason prepayment_not_received, by system),
the catalog releases the reservation (StockReleased, reason expired) and the stock is
available again. Time is moved by replacing the orders app's clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kontor_contracts.samples import ORDER, PRODUCT
from kontor_orders.context import OrdersContext
from kontor_servicekit.context import context_of
from kontor_servicekit.store import OUTBOX
from kontor_servicekit.testing import eventually, wait_for_assignment

pytestmark = pytest.mark.integration


async def test_an_unpaid_prepayment_order_releases_its_stock_after_the_days_set(
    start_service: Any,
) -> None:
    async with (
        start_service("catalog") as catalog,
        start_service("orders", prepayment_days=3, prepayment_sweep_interval_s=0.2) as orders,
    ):
        await wait_for_assignment(catalog)
        await wait_for_assignment(orders)
        assert (await catalog.client.post("/products", json=PRODUCT)).status_code == 201

        async def known() -> bool:
            found = await orders.kit.store.db["catalog_products"].find_one({"_id": "TEE-RED-M"})
            return found is not None

        await eventually(known, timeout=30)
        placed_at = datetime.now(UTC)
        context_of(orders.app, OrdersContext).clock = lambda: placed_at
        body = {**ORDER, "lines": [{"sku": "TEE-RED-M", "quantity": 4}]}
        unpaid = await orders.client.post("/orders", json={**body, "payment_method": "prepayment"})
        on_invoice = await orders.client.post("/orders", json={**body, "payment_method": "invoice"})
        assert unpaid.status_code == 201 and on_invoice.status_code == 201, unpaid.text
        unpaid_id, invoice_id = unpaid.json()["id"], on_invoice.json()["id"]
        assert unpaid.json()["payment_method"] == "prepayment"

        async def status(order_id: str) -> str:
            found: str = (await orders.client.get(f"/orders/{order_id}")).json()["status"]
            return found

        async def both_confirmed() -> bool:
            return [await status(unpaid_id), await status(invoice_id)] == ["confirmed"] * 2

        await eventually(both_confirmed, timeout=30)
        stock = (await catalog.client.get("/stock/TEE-RED-M")).json()
        assert (stock["reserved"], stock["available"]) == (8, 2)

        # three days later the sweeper cancels the unpaid prepayment order, not the other
        context_of(orders.app, OrdersContext).clock = lambda: placed_at + timedelta(days=3)

        async def released() -> dict[str, Any] | None:
            level: dict[str, Any] = (await catalog.client.get("/stock/TEE-RED-M")).json()
            return level if level["reserved"] == 4 else None

        level = await eventually(released, timeout=30)
        assert level["available"] == 6
        order = (await orders.client.get(f"/orders/{unpaid_id}")).json()
        assert order["status"] == "cancelled"
        assert order["timeline"][-1]["details"] == {
            "reason": "prepayment_not_received",
            "cancelled_by": "system",
        }
        assert await status(invoice_id) == "confirmed"
        row = await catalog.kit.store.db[OUTBOX].find_one(
            {"type": "StockReleased", "key": unpaid_id}
        )
        assert row is not None and '"reason":"expired"' in row["value"].replace(" ", "")
