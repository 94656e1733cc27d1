"""Billing's ``billing.invoicing`` subscription with FastStream's in-memory broker.

The real Subscription and MessageHandler run on the kit's service-test harness
(:func:`kontor_servicekit.service_testing.in_memory_service`): an in-memory broker,
a real ``Store`` on the session's database (one database per test), dead letters
and consumer metrics recorded.

In memory every record has partition 0 and offset 0, so two dead letters of one test
would share the ``dead_letters`` id ``<topic>:0:0``: each test parks at most one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from kontor_billing.application.invoicing import BillingPolicy
from kontor_billing.consumers.orders import invoicing
from kontor_billing.store.indexes import ensure_indexes
from kontor_billing.store.invoices import INVOICES
from kontor_contracts.envelope import Envelope
from kontor_contracts.examples import load_example
from kontor_contracts.samples import order_confirmed_envelope, order_placed_envelope
from kontor_servicekit.clock import BERLIN, utc_now
from kontor_servicekit.consumer import DEAD_LETTERS
from kontor_servicekit.service_testing import InMemoryService, in_memory_service
from kontor_servicekit.store import INBOX, OUTBOX

pytestmark = pytest.mark.service

ORDERS = "orders.order.v1"
DLT = "billing.invoicing.dlt"


@pytest.fixture
async def billing(infra: Any, namespace: str) -> AsyncIterator[InMemoryService]:
    async with in_memory_service(
        "billing",
        [invoicing(utc_now, BillingPolicy())],
        mongo_url=infra.mongo_url,
        namespace=namespace,
        indexes=ensure_indexes,
        max_attempts=3,
    ) as service:
        yield service


def _current_year() -> int:
    return datetime.now(UTC).astimezone(BERLIN).year


async def _place_and_confirm(billing: InMemoryService, placed: Envelope) -> Envelope:
    confirmed = order_confirmed_envelope(placed)
    await billing.publish_envelope(placed)
    await billing.publish_envelope(confirmed)
    return confirmed


async def test_the_confirmation_issues_one_invoice_and_announces_it(
    billing: InMemoryService,
) -> None:
    placed = order_placed_envelope()
    await billing.publish_envelope(placed)
    assert await billing.store.db[INVOICES].count_documents({}) == 0  # placed is not enough
    confirmed = order_confirmed_envelope(placed)
    await billing.publish_envelope(confirmed)

    [invoice] = await billing.store.db[INVOICES].find({}).to_list(None)
    assert invoice["order_id"] == placed.aggregate_id
    assert invoice["number"] == f"RE-{_current_year()}-000001"
    assert (invoice["net_total"], invoice["vat_total"], invoice["gross_total"]) == (
        Decimal(placed.payload["net_total"]),
        Decimal(placed.payload["vat_total"]),
        Decimal(placed.payload["gross_total"]),
    )
    assert [row["vat_rate"] for row in invoice["vat_breakdown"]] == [
        Decimal("0.19"),
        Decimal("0.07"),
    ]

    [row] = await billing.store.db[OUTBOX].find({}).to_list(None)
    issued = Envelope.model_validate_json(row["value"])
    assert issued.type == "InvoiceIssued"
    assert row["key"] == invoice["_id"]
    assert issued.correlation_id == placed.correlation_id  # the flow stays correlated
    assert issued.causation_id == str(confirmed.id)
    assert [o[1:] for o in billing.metrics.outcomes] == [
        ("OrderPlaced", "handled"),
        ("OrderConfirmed", "handled"),
    ]
    assert billing.dead_letters.parked == []


async def test_the_same_confirmation_twice_yields_one_invoice(billing: InMemoryService) -> None:
    placed = order_placed_envelope()
    confirmed = await _place_and_confirm(billing, placed)
    await billing.publish_envelope(confirmed)
    await billing.publish_envelope(placed)

    assert await billing.store.db[INVOICES].count_documents({}) == 1
    assert await billing.store.db[OUTBOX].count_documents({}) == 1
    assert await billing.store.db[INBOX].count_documents({}) == 2
    assert [o[2] for o in billing.metrics.outcomes] == [
        "handled",
        "handled",
        "duplicate",
        "duplicate",
    ]


async def test_a_second_order_placed_with_a_new_event_id_still_bills_once(
    billing: InMemoryService,
) -> None:
    # Another producer instance re-published the same order under a new event id:
    # the inbox cannot see it, the one-invoice-per-order rule must.
    placed = order_placed_envelope()
    confirmed = await _place_and_confirm(billing, placed)
    await billing.publish_envelope(placed.model_copy(update={"id": order_placed_envelope().id}))
    await billing.publish_envelope(confirmed.model_copy(update={"id": order_placed_envelope().id}))

    assert await billing.store.db[INVOICES].count_documents({}) == 1
    assert await billing.store.db[OUTBOX].count_documents({}) == 1
    assert billing.dead_letters.parked == []


async def test_consecutive_orders_get_consecutive_numbers(billing: InMemoryService) -> None:
    for n in range(1, 4):
        await _place_and_confirm(billing, order_placed_envelope(number=n))
    numbers = sorted(d["number"] for d in await billing.store.db[INVOICES].find({}).to_list(None))
    year = _current_year()
    assert numbers == [f"RE-{year}-{n:06d}" for n in (1, 2, 3)]


async def test_junk_bytes_are_dead_lettered_with_the_reason(billing: InMemoryService) -> None:
    await billing.publish(
        b"{this is not json", topic=ORDERS, key=b"order-7", headers={"x-trace": "abc"}
    )

    [parked] = billing.dead_letters.parked
    assert parked.topic == billing.topic(DLT)
    assert parked.value == b"{this is not json"
    assert parked.key == b"order-7"
    assert parked.headers["x-trace"] == "abc"  # the original headers travel along
    assert parked.headers["kontor_dlt_error_type"] == "ValidationError"
    assert parked.headers["kontor_dlt_original_topic"] == billing.topic(ORDERS)
    assert parked.headers["kontor_dlt_group"].endswith("billing.invoicing")
    assert parked.headers["kontor_dlt_attempts"] == "1"  # retrying cannot fix junk

    [doc] = await billing.store.db[DEAD_LETTERS].find({}).to_list(None)
    assert doc["_id"] == f"{billing.topic(ORDERS)}:0:0"
    assert doc["status"] == "parked"
    assert doc["reason"].startswith("ValidationError")
    assert doc["value"] == b"{this is not json"
    assert doc["dead_letter_topic"] == billing.topic(DLT)
    assert await billing.store.db[INVOICES].count_documents({}) == 0
    assert await billing.store.db[INBOX].count_documents({}) == 0
    assert billing.metrics.dead == [(doc["group"], billing.topic(ORDERS))]


async def test_an_unknown_event_type_is_dead_lettered(billing: InMemoryService) -> None:
    placed = order_placed_envelope()
    unknown = placed.model_copy(update={"type": "OrderTeleported"})
    await billing.publish_envelope(unknown, topic=ORDERS)

    [parked] = billing.dead_letters.parked
    assert parked.headers["kontor_dlt_error_type"] == "UnknownEventType"
    assert "OrderTeleported" in parked.headers["kontor_dlt_reason"]
    [doc] = await billing.store.db[DEAD_LETTERS].find({}).to_list(None)
    assert doc["error_type"] == "UnknownEventType"
    assert "OrderTeleported" in doc["reason"]
    assert await billing.store.db[INVOICES].count_documents({}) == 0


async def test_an_unknown_version_of_a_known_type_is_dead_lettered(
    billing: InMemoryService,
) -> None:
    unknown = order_placed_envelope().model_copy(update={"version": 9})
    await billing.publish_envelope(unknown, topic=ORDERS)
    [parked] = billing.dead_letters.parked
    assert parked.headers["kontor_dlt_error_type"] == "UnknownEventType"
    assert await billing.store.db[INVOICES].count_documents({}) == 0


async def test_a_known_event_billing_does_not_handle_is_skipped_not_parked(
    billing: InMemoryService,
) -> None:
    delivered = load_example("OrderDelivered")
    assert delivered.payload_model()  # a valid, registered event on the same topic
    await billing.publish_envelope(delivered)

    assert billing.dead_letters.parked == []
    assert [o[1:] for o in billing.metrics.outcomes] == [("OrderDelivered", "ignored")]
    assert await billing.store.db[INBOX].count_documents({}) == 0


async def test_a_failing_handler_is_retried_then_parked_and_uses_up_no_number(
    billing: InMemoryService,
) -> None:
    year = _current_year()
    # A stale invoice already holds number 1 (e.g. restored from a backup without
    # its sequence): every attempt collides on the unique number.
    await billing.store.db[INVOICES].insert_one(
        {"_id": "stale", "number": f"RE-{year}-000001", "kind": "imported", "order_id": "x"}
    )
    placed = order_placed_envelope()
    confirmed = await _place_and_confirm(billing, placed)

    [parked] = billing.dead_letters.parked
    assert parked.headers["kontor_dlt_error_type"] == "DuplicateKeyError"
    assert parked.headers["kontor_dlt_attempts"] == "3"
    assert parked.value == confirmed.to_bytes()
    assert await billing.store.db[INVOICES].count_documents({"order_id": placed.aggregate_id}) == 0
    # only the placement is recorded; the confirmation can be replayed later
    assert await billing.store.db[INBOX].count_documents({}) == 1
    assert await billing.store.db[OUTBOX].count_documents({}) == 0
    assert await billing.store.db["sequences"].find_one({"_id": f"invoice:{year}"}) is None
