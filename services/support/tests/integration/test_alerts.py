"""Analytics' KpiThresholdBreached on the real broker (issue 14): a product's breach opens a
product ticket in support's queue, a shop-wide one does not."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.analytics import KpiThresholdBreached
from kontor_servicekit.testing import as_message, eventually, produce, topic_of

pytestmark = pytest.mark.integration


def breach(subject: str | None, kpi: str) -> Envelope:
    now = datetime.now(UTC)
    event = KpiThresholdBreached(
        kpi=kpi,
        value=Decimal("0.42"),
        threshold=Decimal("0.25"),
        direction="above",
        window_start=now - timedelta(days=7),
        window_end=now,
        unit="ratio",
        severity="warning",
        rule_id=f"r-{kpi}",
        subject=subject,
        breach_id=str(uuid.uuid4()),
    )
    return Envelope.wrap(event, producer="analytics", aggregate_id=kpi)


async def test_a_product_s_breached_figure_opens_a_product_ticket(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with start_service("support") as support:
        topic = topic_of(namespace, "KpiThresholdBreached")
        # the same figure (the Kafka key): the shop-wide one is handled before the product's
        shop_wide, product = breach(None, "return_rate"), breach("sku:TEE-RED-M", "return_rate")
        await produce(infra.kafka_bootstrap, topic, [as_message(shop_wide), as_message(product)])

        async def opened() -> list[dict[str, Any]] | None:
            page = (await support.client.get("/queue")).json()
            return page["items"] or None

        [ticket] = await eventually(opened, timeout=30)  # and the shop-wide one opened none
        assert ticket["subject"] == "Auffällige Kennzahl: Retourenquote TEE-RED-M"
        assert (ticket["category"], ticket["priority"]) == ("product", "high")
        shown = (await support.client.get(f"/tickets/{ticket['id']}")).json()
        [note] = shown["messages"]
        assert note["internal"] is True and "0.42" in note["body"]
        assert (await support.client.get("/tickets")).json()["total"] == 1
