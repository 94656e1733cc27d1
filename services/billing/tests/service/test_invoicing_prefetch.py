"""One fetch of order events through ``billing.invoicing`` with its reads done ahead
(ADR 0150) and its orders written once (ADR 0151), over the real database.

The batch's handlers share one transaction (ADR 0110); the subscription's prefetch reads
the orders, their invoices, unapplied payments and buyer choices once for all of them.
What must not change: each order gets one invoice however many events of it the batch
holds, with gap-free numbers, and a payment that OrderPlaced releases in the batch is
applied to the invoice its confirmation issues (the prefetched answer "no unapplied
payment" is dropped when the release saves the payment).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from kontor_billing.application.invoicing import BillingPolicy
from kontor_billing.application.payments import book_payment
from kontor_billing.consumers.orders import invoicing
from kontor_billing.domain.receivables import PaymentBooking
from kontor_billing.store.indexes import ensure_indexes
from kontor_billing.store.invoices import INVOICES
from kontor_billing.store.unit_of_work import MongoBillingUnitOfWork
from kontor_contracts.envelope import Envelope
from kontor_contracts.samples import order_confirmed_envelope, order_placed_envelope
from kontor_servicekit.clock import utc_now
from kontor_servicekit.consumer import ConsumerRuntime, MessageHandler, ParkedRecord
from kontor_servicekit.recorders import CommandCounter, DeadLetterRecorder, MetricsRecorder
from kontor_servicekit.store import Store, create_client

pytestmark = pytest.mark.service


@dataclass
class Billing:
    store: Store
    commands: CommandCounter
    handler: MessageHandler


@pytest.fixture
async def billing(infra: Any, namespace: str) -> AsyncIterator[Billing]:
    commands = CommandCounter()
    client = create_client(infra.mongo_url, app_name="billing-prefetch", event_listeners=[commands])
    database = f"{namespace}_billing_prefetch"
    store = Store(client, database, producer="billing")
    await store.ensure_indexes()
    await ensure_indexes(store.db)
    runtime = ConsumerRuntime(
        service="billing",
        store=store,
        producer=DeadLetterRecorder(),
        metrics=MetricsRecorder(),
        retry_backoff_s=0.0,
        max_attempts=2,
    )
    try:
        yield Billing(store, commands, MessageHandler(runtime, invoicing(utc_now, BillingPolicy())))
    finally:
        await client.drop_database(database)
        await client.close()


def fetched(*envelopes: Envelope) -> list[ParkedRecord]:
    return [
        ParkedRecord(
            "orders.order.v1", 0, offset, (e.aggregate_id or "").encode(), e.to_bytes(), []
        )
        for offset, e in enumerate(envelopes)
    ]


async def test_a_batch_reads_ahead_once_and_issues_each_invoice_once_with_its_payment(
    billing: Billing,
) -> None:
    a, b = order_placed_envelope(number=1), order_placed_envelope(number=2)

    # the card provider reported B's payment before billing knew the order: held
    async def hold(tx: Any) -> None:
        await book_payment(
            MongoBillingUnitOfWork(tx),
            PaymentBooking(
                payment_id="pi_b",
                amount=Decimal(b.payload["gross_total"]),
                currency="EUR",
                method="card",
                received_at=datetime.now(UTC),
                source="stripe",
                order_id=b.aggregate_id,
            ),
            datetime.now(UTC),
            hold_unknown_order=True,
        )

    await billing.store.transaction(hold)
    held = await billing.store.db["payments"].find_one({"_id": "pi_b"})
    assert held is not None and held["held"] and held["invoice_number"] is None

    batch = fetched(
        a,
        order_confirmed_envelope(a),
        order_confirmed_envelope(a),  # sent again (a new event id): no second invoice
        b,
        order_confirmed_envelope(b),
    )
    billing.commands.seen.clear()
    assert await billing.handler.handle_records(batch) == 5
    seen = Counter(billing.commands.seen)

    invoices = await billing.store.db[INVOICES].find({}).sort("number", 1).to_list(None)
    assert [i["order_id"] for i in invoices] == [a.aggregate_id, b.aggregate_id]
    assert [int(i["number"].rsplit("-", 1)[1]) for i in invoices] == [1, 2]
    paid = await billing.store.db["payments"].find_one({"_id": "pi_b"})
    assert paid is not None and paid["held"] is None
    assert paid["invoice_number"] == invoices[1]["number"]  # applied, not left open

    assert seen[("commitTransaction", "1")] == 1  # the five shared one transaction
    assert seen[("find", "orders")] == 1  # read ahead for all five, none by a handler
    assert seen[("find", INVOICES)] == 1
    assert seen[("find", "buyer_languages")] == 1
    assert seen[("find", "buyer_payment_terms")] == 1
    assert seen[("update", "orders")] == 1  # the orders saved, written once (ADR 0151)
