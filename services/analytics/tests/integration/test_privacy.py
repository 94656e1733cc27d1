"""Analytics answers privacy requests through the kit's participant: the export holds the
person's storefront sessions and events (found through their customer id as GA4
user_id, and every client id seen with it); the erasure deletes them, anonymises their
orders in the figures, and leaves other people's data alone."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.common import Customer
from kontor_contracts.events.orders import DataExportRequested, ErasureRequested
from kontor_contracts.samples import order_placed_envelope
from kontor_servicekit.testing import as_message, consume_all, eventually, produce, topic_of

pytestmark = pytest.mark.integration

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
EVA = "eva@example.de"


def placed(order_id: str) -> Envelope:
    eva = Customer(customer_id="cust-7", email=EVA, name="Eva Beispiel")
    return order_placed_envelope(order_id, number=77, customer=eva)


def request(kind: type[Any]) -> Envelope:
    request_id = str(uuid.uuid4())
    event = kind(
        request_id=request_id,
        subject_id="subj-eva",
        email=EVA,
        requested_at=datetime.now(UTC),
        expected=["analytics"],
    )
    return Envelope.wrap(event, producer="orders", aggregate_id=request_id)


async def test_export_and_erasure_of_a_persons_storefront_data(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with start_service("analytics") as analytics:
        order = placed("o-eva")
        await produce(
            infra.kafka_bootstrap, topic_of(namespace, "OrderPlaced"), [as_message(order)]
        )
        for body in (
            {"client_id": "c.eva", "user_id": "cust-7", "events": [{"name": "purchase"}]},
            {"client_id": "c.eva", "events": [{"name": "page_view"}]},  # before logging in
            {"client_id": "c.other", "events": [{"name": "page_view"}]},
        ):
            sent = await analytics.client.post(
                "/collect?measurement_id=G-KONTOR", json=body, headers={"user-agent": BROWSER}
            )
            assert sent.status_code == 204
        db = analytics.kit.store.db

        async def order_in() -> bool:
            return await db["fact_orders"].count_documents({"customer_id": "cust-7"}) == 1

        await eventually(order_in, timeout=30)
        [fact] = await db["fact_orders"].find().to_list(None)
        assert fact["subject"] == analytics.kit.privacy.require()[1].subject_id(EVA)
        topic = topic_of(namespace, "DataExportRequested")
        export, erasure = request(DataExportRequested), request(ErasureRequested)
        await produce(infra.kafka_bootstrap, topic, [as_message(export)])

        sealer = analytics.kit.privacy.sealer  # the answers travel sealed (ADR 0036)

        async def answered(count: int) -> list[dict[str, Any]] | None:
            records = await consume_all(infra.kafka_bootstrap, topic, count, timeout_ms=2000)
            answers = [
                json.loads((await sealer.unseal(Envelope.from_bytes(r.value))).to_bytes())
                for r in records
            ]
            found = [a for a in answers if a["type"].startswith("CustomerData")]
            return found if len(found) == count // 2 else None

        [exported] = await eventually(lambda: answered(2), timeout=60)
        part = exported["payload"]["part"]
        assert exported["type"] == "CustomerDataExported"
        assert part["personal_data"]["client_ids"] == ["c.eva"]
        assert sorted(e["name"] for e in part["personal_data"]["events"]) == [
            "page_view",
            "purchase",
        ]
        assert part["personal_data"]["orders_counted"] == 1
        assert "cust-7" in part["user_ids"]

        await produce(infra.kafka_bootstrap, topic, [as_message(erasure)])
        answers = await eventually(lambda: answered(4), timeout=60)
        erased = next(a for a in answers if a["type"] == "CustomerDataErased")["payload"]
        assert {i["what"]: i["count"] for i in erased["deleted"]} == {
            "raw_events": 2,
            "sessions": 1,
        }
        assert {i["what"]: i["count"] for i in erased["anonymised"]} == {"orders (figures)": 1}
        assert [d["client_id"] for d in await db["raw_events"].find().to_list(None)] == ["c.other"]
        assert await db["sessions"].count_documents({"client_id": "c.eva"}) == 0
        [kept] = await db["fact_orders"].find().to_list(None)
        assert (kept["customer"], kept["customer_id"], kept["subject"], str(kept["gross"])) == (
            None,
            None,
            None,
            "67.58",
        )
