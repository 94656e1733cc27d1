"""The service-test harness itself: a subscription on the in-memory broker over a real store.

A toy subscription records every OrderPlaced it handles; the tests prove that the
harness delivers envelopes on their registered topic, records outcomes and dead
letters, creates the service's indexes and drops the test's database afterwards.
"""

from __future__ import annotations

from typing import Any

import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.orders import OrderPlaced
from kontor_contracts.samples import order_placed_envelope
from kontor_servicekit.consumer import DEAD_LETTERS, Subscription
from kontor_servicekit.service_testing import in_memory_service
from kontor_servicekit.store import INBOX, Transaction, create_client
from pymongo.asynchronous.database import AsyncDatabase

pytestmark = pytest.mark.integration


class Refused(Exception):
    pass


async def record(event: OrderPlaced, tx: Transaction, envelope: Envelope) -> None:
    if event.order_number == "REFUSE":
        raise Refused(event.order_id)
    await tx.db["seen"].insert_one(
        {"_id": event.order_id, "number": event.order_number}, session=tx.session
    )


RECORDER = Subscription(purpose="recorder", handlers={OrderPlaced: record})


async def test_envelopes_arrive_on_their_topic_and_outcomes_are_recorded(
    infra: Any, namespace: str
) -> None:
    placed = order_placed_envelope()
    async with in_memory_service(
        "billing", [RECORDER], mongo_url=infra.mongo_url, namespace=namespace
    ) as service:
        assert service.prefix == f"{namespace}."
        assert service.topic("orders.order.v1") == f"{namespace}.orders.order.v1"
        assert service.store.db.name == f"{namespace}_billing"
        await service.publish_envelope(placed)
        await service.publish_envelope(placed)
        seen = await service.store.db["seen"].find({}).to_list(None)
        assert [d["_id"] for d in seen] == [placed.aggregate_id]
        assert await service.store.db[INBOX].count_documents({}) == 1
        assert service.metrics.outcomes == [
            (f"{namespace}.billing.recorder", "OrderPlaced", "handled"),
            (f"{namespace}.billing.recorder", "OrderPlaced", "duplicate"),
        ]
        assert service.dead_letters.parked == []
    client = create_client(infra.mongo_url, app_name="kontor-servicekit-tests")
    try:
        assert f"{namespace}_billing" not in await client.list_database_names()  # dropped
    finally:
        await client.close()


async def test_a_failing_handler_is_tried_max_attempts_then_parked_with_headers(
    infra: Any, namespace: str
) -> None:
    refused = order_placed_envelope(number=7)
    refused = refused.model_copy(update={"payload": {**refused.payload, "order_number": "REFUSE"}})
    async with in_memory_service(
        "billing", [RECORDER], mongo_url=infra.mongo_url, namespace=namespace, max_attempts=2
    ) as service:
        await service.publish_envelope(refused)
        [parked] = service.dead_letters.parked
        assert parked.topic == f"{namespace}.billing.recorder.dlt"
        assert (parked.key, parked.value) == (refused.aggregate_id.encode(), refused.to_bytes())
        assert parked.headers["kontor_dlt_error_type"] == "Refused"
        assert parked.headers["kontor_dlt_attempts"] == "2"
        assert service.metrics.dead == [
            (f"{namespace}.billing.recorder", f"{namespace}.orders.order.v1")
        ]
        assert await service.store.db[DEAD_LETTERS].count_documents({}) == 1
        assert await service.store.db["seen"].count_documents({}) == 0


async def test_raw_bytes_go_to_the_given_topic_and_the_services_indexes_exist(
    infra: Any, namespace: str
) -> None:
    async def indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
        await db["seen"].create_index("number", name="by_number")

    async with in_memory_service(
        "billing", [RECORDER], mongo_url=infra.mongo_url, namespace=namespace, indexes=indexes
    ) as service:
        assert "by_number" in await service.store.db["seen"].index_information()
        await service.publish(b"junk", topic="orders.order.v1", headers={"x-trace": "t"})
        [parked] = service.dead_letters.parked
        assert (parked.value, parked.key) == (b"junk", b"k")
        assert parked.headers["x-trace"] == "t"
        assert parked.headers["kontor_dlt_original_topic"] == f"{namespace}.orders.order.v1"
