"""Issue 14 across catalog, orders and support on the real broker and database: a
complaint filed on a delivered order opens a ticket in support (ComplaintFiled, with the
order's context), the agent answers and solves it, and the order's timeline shows the
solved ticket (TicketResolved, orders.support-tickets)."""

from __future__ import annotations

from typing import Any

import pytest
from kontor_contracts.samples import PRODUCT
from kontor_servicekit.testing import eventually, wait_for_assignment

from tests.integration.test_order_life import (
    place,
    products_known,
    ship_and_deliver,
    status_becomes,
)

pytestmark = pytest.mark.integration


async def test_a_complaint_s_ticket_solved_in_support_shows_on_the_order(
    start_service: Any,
) -> None:
    async with (
        start_service("catalog") as catalog,
        start_service("orders") as orders,
        start_service("support") as support,
    ):
        for service in (catalog, orders, support):
            await wait_for_assignment(service)
        assert (await catalog.client.post("/products", json=PRODUCT)).status_code == 201
        await products_known(orders, "TEE-RED-M")
        order = await place(orders, [{"sku": "TEE-RED-M", "quantity": 1}])
        await status_becomes(orders, order["id"], "confirmed")
        await ship_and_deliver(orders, order)
        filed = await orders.client.post(
            "/complaints",
            json={"order_id": order["id"], "line_no": 1, "description": "Naht offen"},
        )
        assert filed.status_code == 201, filed.text

        async def complaint_ticket() -> dict[str, Any] | None:
            page = (
                await support.client.get("/tickets", params={"order_number": order["number"]})
            ).json()
            found = [t for t in page["items"] if t["category"] == "complaint"]
            return found[0] if found else None

        ticket = await eventually(complaint_ticket, timeout=30)
        shown = (await support.client.get(f"/tickets/{ticket['id']}")).json()
        [context] = shown["customer"]["orders"]
        assert context["order_number"] == order["number"]
        assert context["complaints"][0]["sku"] == "TEE-RED-M"
        replied = await support.client.post(
            f"/tickets/{ticket['id']}/replies", json={"body": "Wir senden Ersatz."}
        )
        assert replied.status_code == 201, replied.text
        solved = await support.client.patch(
            f"/tickets/{ticket['id']}", json={"status": "solved", "resolution": "Ersatz"}
        )
        assert solved.status_code == 200, solved.text

        async def on_the_timeline() -> list[dict[str, Any]] | None:
            body = (await orders.client.get(f"/orders/{order['id']}")).json()
            noted = [e for e in body["timeline"] if e["event"] == "complaint_ticket_resolved"]
            return noted or None

        [noted] = await eventually(on_the_timeline, timeout=30)
        assert noted["details"] == {"ticket_id": ticket["id"]}
