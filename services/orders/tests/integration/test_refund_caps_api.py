"""Issue 10 points 6 and 10 over HTTP and the real database: two refunds racing for
the same line never exceed it, and a partial receipt stays open until the merchant
closes it."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from services.orders.tests.integration.test_returns_api import delivered_order, outbox, seed

pytestmark = pytest.mark.integration


async def test_two_complaint_refunds_racing_for_one_line_never_exceed_it(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with start_service("orders") as orders:
        await seed(orders)
        order = await delivered_order(orders, infra, namespace)  # line 1: 2 x 11.90 = 23.80
        ids = []
        for _ in range(2):
            filed = await orders.client.post(
                "/complaints",
                json={"order_id": order["id"], "line_no": 1, "description": "Naht offen"},
            )
            assert filed.status_code == 201, filed.text
            ids.append(filed.json()["id"])
        answers = await asyncio.gather(
            *(
                orders.client.post(
                    f"/complaints/{cid}/resolution", json={"remedy": "refund", "amount": "15.00"}
                )
                for cid in ids
            )
        )
        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
        [refused] = [a.json() for a in answers if a.status_code == 409]
        assert (refused["remaining"], refused["currency"]) == ("8.80", "EUR")
        assert refused["title"] == "Refund exceeds what is still refundable"
        stored = await orders.kit.store.db["orders"].find_one({"_id": order["id"]})
        assert Decimal(str(stored["refunded_total"])) == Decimal("15.00")
        completed = [
            p for cid in ids for t, p in await outbox(orders, cid) if t == "ReturnCompleted"
        ]
        assert [c["refund_amount"] for c in completed] == ["15.00"]


async def test_a_partial_receipt_stays_open_until_closed(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with start_service("orders") as orders:
        await seed(orders)
        order = await delivered_order(orders, infra, namespace)
        created = await orders.client.post(
            "/returns",
            json={
                "order_id": order["id"],
                "kind": "goodwill",
                "lines": [{"line_no": 1, "quantity": 2}],
            },
        )
        assert created.status_code == 201, created.text
        rid = created.json()["id"]
        partial = await orders.client.post(
            f"/returns/{rid}/receipt",
            json={
                "lines": [
                    {"line_no": 1, "quantity": 1, "condition": "as_new", "disposition": "restock"}
                ]
            },
        )
        assert partial.status_code == 200, partial.text
        body = partial.json()
        assert (body["status"], body["refund"], body["outstanding"]) == (
            "partially_received",
            None,
            [{"line_no": 1, "quantity": 1}],
        )
        assert [t for t, _ in await outbox(orders, rid)] == ["ReturnRequested", "ReturnReceived"]
        listed = (await orders.client.get("/returns?status=open")).json()
        assert [r["id"] for r in listed["items"]] == [rid] and listed["total"] == 1
        no_reason = await orders.client.post(f"/returns/{rid}/close", json={"reason": ""})
        assert no_reason.status_code == 422
        closed = await orders.client.post(f"/returns/{rid}/close", json={"reason": "lost"})
        assert closed.status_code == 200, closed.text
        body = closed.json()
        assert (body["status"], body["closed_reason"], body["outstanding"]) == (
            "completed",
            "lost",
            [],
        )
        assert body["refund"] == {"amount": "11.90", "includes_shipping": False}
        again = await orders.client.post(f"/returns/{rid}/close", json={"reason": "again"})
        assert again.status_code == 409 and again.json()["current_state"] == "completed"
        shown = (await orders.client.get(f"/orders/{order['id']}")).json()
        assert shown["status"] == "partially_returned"
        filtered = (await orders.client.get("/orders?status=partially_returned")).json()
        assert [o["id"] for o in filtered["items"]] == [order["id"]]
