"""Payment terms per customer on the real broker and database (issue 12 leftover): the
days agreed with a buyer (``PUT /buyers/{email}/payment-terms``) make their next invoice
due then; the invoice, its receivable and InvoiceIssued on the topic say so."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from kontor_contracts.samples import order_confirmed_envelope, order_placed_envelope
from kontor_servicekit.testing import (
    as_message,
    consume_all,
    eventually,
    produce,
    topic_of,
    wait_for_assignment,
)

pytestmark = pytest.mark.integration


async def test_the_days_agreed_with_a_buyer_make_their_next_invoice_due_then(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with start_service("billing") as billing:
        await wait_for_assignment(billing)
        route = "/buyers/Anna@Example.de/payment-terms"
        assert (await billing.client.get(route)).json() == {
            "email": "anna@example.de",
            "days": None,
            "default_days": 14,
        }
        too_long = await billing.client.put(route, json={"days": 121})
        assert too_long.status_code == 422
        assert [e["loc"] for e in too_long.json()["errors"]] == [["body", "days"]]
        agreed = await billing.client.put(route, json={"days": 30})
        assert agreed.status_code == 200, agreed.text
        assert (await billing.client.get(route)).json()["days"] == 30

        placed = order_placed_envelope()  # anna@example.de
        await produce(
            infra.kafka_bootstrap,
            topic_of(namespace, "OrderPlaced"),
            [as_message(placed), as_message(order_confirmed_envelope(placed))],
        )

        async def invoice() -> Any:
            found = await billing.client.get("/invoices", params={"order_id": placed.aggregate_id})
            items = found.json()["items"]
            return items[0] if items else None

        issued = await eventually(invoice, timeout=30)
        due = date.fromisoformat(issued["issue_date"]) + timedelta(days=30)
        assert issued["due_date"] == due.isoformat()
        receivable = await billing.client.get(f"/receivables/{issued['number']}")
        assert receivable.json()["due_date"] == due.isoformat()
        [record] = await consume_all(
            infra.kafka_bootstrap, topic_of(namespace, "InvoiceIssued"), expected=1
        )
        assert json.loads(record.value)["payload"]["due_date"] == due.isoformat()
