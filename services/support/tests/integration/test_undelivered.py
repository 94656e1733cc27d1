"""An order shipped N days ago and never delivered opens a ticket (issue 14), once; a
delivered one and a recent one do not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.orders import OrderDelivered, OrderShipped, ShippedLine
from kontor_contracts.samples import order_placed_envelope
from kontor_servicekit.context import context_of
from kontor_servicekit.testing import as_message, eventually, produce, topic_of
from kontor_support.application.context import open_undelivered_tickets
from kontor_support.context import SupportContext

pytestmark = pytest.mark.integration


def shipped(order_id: str, days_ago: int) -> Envelope:
    event = OrderShipped(
        order_id=order_id,
        shipment_id=f"s-{order_id[:8]}",
        carrier="DHL",
        tracking_number=f"JJD{order_id[:6]}",
        lines=[ShippedLine(line_no=1, sku="TEE-RED-M", quantity=2)],
        complete=True,
        shipped_at=datetime.now(UTC) - timedelta(days=days_ago),
    )
    return Envelope.wrap(event, producer="orders", aggregate_id=order_id)


async def test_a_parcel_lost_on_its_way_opens_one_ticket(
    start_service: Any, infra: Any, namespace: str
) -> None:
    lost, delivered, recent = (order_placed_envelope(number=n) for n in (1, 2, 3))
    events = [lost, delivered, recent, shipped(lost.aggregate_id, 9)]
    events += [shipped(delivered.aggregate_id, 9), shipped(recent.aggregate_id, 2)]
    events.append(
        Envelope.wrap(
            OrderDelivered(
                order_id=delivered.aggregate_id, delivered_at=datetime.now(UTC) - timedelta(days=7)
            ),
            producer="orders",
            aggregate_id=delivered.aggregate_id,
        )
    )
    # the sweep runs once the read model has every event: a sweep between the delivered
    # order's OrderShipped and its OrderDelivered would rightly open a ticket for it too
    async with start_service(
        "support", undelivered_after_days=7, sla_sweep_interval_s=3600
    ) as support:
        for envelope in events:
            await produce(
                infra.kafka_bootstrap, topic_of(namespace, envelope.type), [as_message(envelope)]
            )

        async def delivery_tickets() -> list[dict[str, Any]]:
            page = (await support.client.get("/tickets", params={"status": "new"})).json()
            return [t for t in page["items"] if t["category"] == "delivery"]

        async def every_order_seen() -> bool:
            shown = (await support.client.get("/customers/anna@example.de")).json()
            statuses = sorted(o["status"] for o in shown["orders"])
            return statuses == ["delivered", "shipped", "shipped"]

        await eventually(every_order_seen, timeout=30)
        ctx = context_of(support.app, SupportContext)
        opened = await open_undelivered_tickets(
            ctx.transactor, ctx.queries.undelivered, clock=ctx.clock, after=timedelta(days=7)
        )
        assert opened == 1
        [ticket] = await delivery_tickets()
        number = lost.payload["order_number"]
        assert ticket["subject"] == f"Nicht zugestellt: {number}"
        assert ticket["order_numbers"] == [number]
        assert ticket["priority"] == "high"
        detail = (await support.client.get(f"/tickets/{ticket['id']}")).json()
        assert "JJD" in detail["messages"][0]["body"]
        assert detail["messages"][0]["internal"] is True
        again = await open_undelivered_tickets(
            ctx.transactor, ctx.queries.undelivered, clock=ctx.clock, after=timedelta(days=7)
        )
        assert again == 0  # a later round opens no second one
        assert len(await delivery_tickets()) == 1


async def test_the_sweeper_of_the_running_service_opens_the_ticket_by_itself(
    start_service: Any, infra: Any, namespace: str
) -> None:
    """The wiring (review finding): nothing here calls the sweep; the service's own
    periodic ``undelivered-orders`` sweeper, with the settings' days, opens the ticket."""
    lost = order_placed_envelope(number=4)
    async with start_service(
        "support", undelivered_after_days=7, sla_sweep_interval_s=0.2
    ) as support:
        for envelope in (lost, shipped(lost.aggregate_id, 9)):
            await produce(
                infra.kafka_bootstrap, topic_of(namespace, envelope.type), [as_message(envelope)]
            )

        async def opened() -> list[dict[str, Any]] | None:
            page = (await support.client.get("/tickets", params={"status": "new"})).json()
            found = [t for t in page["items"] if t["category"] == "delivery"]
            return found or None

        [ticket] = await eventually(opened, timeout=30)
        assert ticket["order_numbers"] == [lost.payload["order_number"]]
        timeline = (await support.client.get(f"/tickets/{ticket['id']}/timeline")).json()
        assert timeline[0]["actor"] == "system"
