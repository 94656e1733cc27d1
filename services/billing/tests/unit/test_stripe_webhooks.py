"""Stripe webhooks over the in-memory unit of work, signed the way Stripe signs them
(the stripe package's own ``generate_signature_header``: HMAC-SHA256 over
``t.body``), verified by the real ``stripe.Webhook.construct_event``."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
import stripe
from kontor_billing.application.invoicing import on_order_confirmed, on_order_placed
from kontor_billing.application.payments import ManualPayment, book_manual_payment
from kontor_billing.application.stripe_webhooks import (
    StripeWebhookSettings,
    WebhookResult,
    handle_stripe_webhook,
)
from kontor_billing.domain.receivables import Receivable
from kontor_billing.store.memory import InMemoryBillingUnitOfWork
from kontor_contracts.events.billing import PaymentReceived, PaymentRefunded
from kontor_contracts.events.orders import OrderConfirmed, OrderPlaced
from kontor_contracts.samples import order_placed_envelope
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.domain_errors import Invalid, NotFound
from kontor_servicekit.fakes import FakeTransactor

pytestmark = pytest.mark.unit

SECRET = "whsec_test_" + "k" * 24
SETTINGS = StripeWebhookSettings(secret=SECRET, tolerance_s=300)
AT = datetime(2026, 6, 1, 9, tzinfo=UTC)


def signed(event: dict[str, Any], *, secret: str = SECRET, age_s: int = 0) -> tuple[bytes, str]:
    body = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(
        body, secret, timestamp=int(time.time()) - age_s
    )
    return body.encode(), header


def intent_succeeded(event_id: str, cents: int, **metadata: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(AT.timestamp()),
        "data": {
            "object": {
                "id": "pi_1",
                "object": "payment_intent",
                "amount_received": cents,
                "currency": "eur",
                "payment_method_types": ["card"],
                "metadata": metadata,
            }
        },
    }


def charge_refunded(
    event_id: str, refunded_cents: int, refunds: list[Any] | None
) -> dict[str, Any]:
    charge: dict[str, Any] = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": "pi_1",
        "amount_refunded": refunded_cents,
        "currency": "eur",
        "metadata": {},
    }
    if refunds is not None:
        charge["refunds"] = {"object": "list", "data": refunds}
    return {
        "id": event_id,
        "object": "event",
        "type": "charge.refunded",
        "created": int(AT.timestamp()) + 3600,
        "data": {"object": charge},
    }


async def invoiced(
    billing: FakeTransactor[InMemoryBillingUnitOfWork], clock: FakeClock
) -> Receivable:
    placed = order_placed_envelope("o-1").payload_model()
    assert isinstance(placed, OrderPlaced)
    await billing.deliver(partial(on_order_placed, clock=clock), placed)
    await billing.deliver(
        partial(on_order_confirmed, clock=clock), OrderConfirmed(order_id="o-1", confirmed_at=AT)
    )
    found = await billing.run(lambda uow: uow.receivables.of_order("o-1"))
    assert found is not None
    return found


async def post(
    billing: FakeTransactor[InMemoryBillingUnitOfWork],
    clock: FakeClock,
    payload: bytes,
    header: str | None,
    settings: StripeWebhookSettings = SETTINGS,
) -> WebhookResult:
    return await handle_stripe_webhook(billing, payload, header, settings=settings, clock=clock)


def setup() -> tuple[FakeTransactor[InMemoryBillingUnitOfWork], FakeClock]:
    return FakeTransactor(InMemoryBillingUnitOfWork), FakeClock(AT)


def cents(amount: Decimal) -> int:
    return int(amount * 100)


async def test_a_succeeded_intent_books_the_payment_once_and_a_replay_changes_nothing() -> None:
    billing, clock = setup()
    r = await invoiced(billing, clock)
    body, header = signed(intent_succeeded("evt_1", cents(r.gross_total), order_id="o-1"))
    result = await post(billing, clock, body, header)
    assert result.outcome == "booked"
    [booked] = result.booked
    assert booked.receivable is not None and booked.receivable.status == "paid"
    [event] = billing.db.events(PaymentReceived)
    assert (event.payment_id, event.amount, event.method, event.source) == (
        "pi_1",
        r.gross_total,
        "card",
        "stripe",
    )
    assert event.received_at == AT
    again = await post(billing, clock, body, header)
    assert again.outcome == "replayed"
    # the same intent in another event (Stripe may send one twice): still one payment
    other = signed(intent_succeeded("evt_2", cents(r.gross_total), order_id="o-1"))
    assert (await post(billing, clock, *other)).outcome == "booked"
    assert len(billing.db.events(PaymentReceived)) == 1
    assert len(billing.db.rows("payments")) == 1


async def test_forged_stale_and_unsigned_webhooks_are_refused_and_change_nothing() -> None:
    billing, clock = setup()
    await invoiced(billing, clock)
    event = intent_succeeded("evt_1", 100, order_id="o-1")
    forged = await post(billing, clock, *signed(event, secret="whsec_someone_else"))
    assert forged.outcome == "refused" and "signature" in (forged.reason or "")
    body, header = signed(event)
    tampered = body.replace(b'"amount_received": 100', b'"amount_received": 1')
    assert (await post(billing, clock, tampered, header)).outcome == "refused"
    stale = await post(billing, clock, *signed(event, age_s=301))
    assert stale.outcome == "refused" and "tolerance" in (stale.reason or "")
    assert (await post(billing, clock, body, None)).outcome == "refused"
    assert billing.db.rows("payments") == []
    assert billing.db.rows("stripe_events") == []
    # the tolerance is a setting
    lenient = StripeWebhookSettings(secret=SECRET, tolerance_s=600)
    assert (await post(billing, clock, *signed(event, age_s=301), lenient)).outcome == "booked"
    unconfigured = await post(billing, clock, body, header, StripeWebhookSettings(secret=None))
    assert unconfigured.outcome == "refused" and "not configured" in (unconfigured.reason or "")


async def test_charge_refunded_books_each_refund_against_the_receivable() -> None:
    billing, clock = setup()
    r = await invoiced(billing, clock)
    gross = cents(r.gross_total)
    await post(
        billing, clock, *signed(intent_succeeded("evt_1", gross, invoice_number=r.invoice_number))
    )
    refund = {"id": "re_1", "amount": 500, "status": "succeeded", "created": int(AT.timestamp())}
    await post(billing, clock, *signed(charge_refunded("evt_2", 500, [refund])))
    # a second partial refund; the event lists both (the first is not booked again)
    second = {**refund, "id": "re_2", "amount": 250}
    await post(billing, clock, *signed(charge_refunded("evt_3", 750, [refund, second])))
    refunds = billing.db.events(PaymentRefunded)
    assert [(e.payment_id, e.amount) for e in refunds] == [
        ("re_1", Decimal("5.00")),
        ("re_2", Decimal("2.50")),
    ]
    stored = {p.payment_id: p for p in billing.db.rows("payments")}
    assert stored["re_1"].booked_at == clock()  # booked now, received when Stripe says
    assert stored["re_1"].direction == "out"
    after = await billing.run(lambda uow: uow.receivables.get(r.invoice_number))
    assert after is not None
    assert after.open_amount == Decimal("7.50")
    assert after.status == "partially_paid"


async def test_without_listed_refunds_the_growth_of_amount_refunded_is_booked() -> None:
    billing, clock = setup()
    r = await invoiced(billing, clock)
    await post(
        billing, clock, *signed(intent_succeeded("evt_1", cents(r.gross_total), order_id="o-1"))
    )
    await post(billing, clock, *signed(charge_refunded("evt_2", 300, None)))
    await post(billing, clock, *signed(charge_refunded("evt_3", 1000, None)))
    refunds = billing.db.events(PaymentRefunded)
    assert [(e.payment_id, e.amount) for e in refunds] == [
        ("ch_1:300", Decimal("3.00")),
        ("ch_1:1000", Decimal("7.00")),
    ]


async def test_other_types_are_acknowledged_and_an_intent_without_metadata_is_refused() -> None:
    billing, clock = setup()
    await invoiced(billing, clock)
    other = {**intent_succeeded("evt_9", 100), "type": "customer.created"}
    assert (await post(billing, clock, *signed(other))).outcome == "ignored"
    with pytest.raises(Invalid):
        await post(billing, clock, *signed(intent_succeeded("evt_10", 100)))
    assert billing.db.rows("payments") == []


async def _place(
    billing: FakeTransactor[InMemoryBillingUnitOfWork], clock: FakeClock, *, confirm: bool
) -> None:
    placed = order_placed_envelope("o-1").payload_model()
    assert isinstance(placed, OrderPlaced)
    await billing.deliver(partial(on_order_placed, clock=clock), placed)
    if confirm:
        await billing.deliver(
            partial(on_order_confirmed, clock=clock),
            OrderConfirmed(order_id="o-1", confirmed_at=AT),
        )


async def test_a_payment_reported_before_its_order_is_held_then_booked_by_order_placed() -> None:
    """ADR 0148: the webhook outran OrderPlaced. Refused, Stripe would retry for hours."""
    billing, clock = setup()
    body, header = signed(intent_succeeded("evt_1", 4990, order_id="o-1"))
    early = await post(billing, clock, body, header)
    assert early.outcome == "held"
    [payment] = billing.db.rows("payments")
    assert payment.held is not None and "OrderPlaced" in payment.held
    assert billing.db.events(PaymentReceived) == []  # announced only for a known order
    assert (await post(billing, clock, body, header)).outcome == "replayed"

    await _place(billing, clock, confirm=False)
    [payment] = billing.db.rows("payments")
    assert payment.held is None and payment.invoice_number is None  # a prepayment now
    [event] = billing.db.events(PaymentReceived)
    assert (event.payment_id, event.order_id, event.amount) == ("pi_1", "o-1", Decimal("49.90"))
    [order] = [row for row in billing.db.rows("orders") if row.order_id == "o-1"]
    assert not order.payments_held

    await billing.deliver(
        partial(on_order_confirmed, clock=clock), OrderConfirmed(order_id="o-1", confirmed_at=AT)
    )
    receivable = await billing.run(lambda uow: uow.receivables.of_order("o-1"))
    assert receivable is not None
    assert receivable.paid == Decimal("49.90")
    assert len(billing.db.events(PaymentReceived)) == 1  # once, however it got there


async def test_a_held_payment_in_another_currency_than_its_order_stays_held() -> None:
    billing, clock = setup()
    usd = intent_succeeded("evt_1", 4990, order_id="o-1")
    usd["data"]["object"]["currency"] = "usd"
    assert (await post(billing, clock, *signed(usd))).outcome == "held"
    await _place(billing, clock, confirm=True)
    [payment] = billing.db.rows("payments")
    assert payment.held == "payment in USD for order o-1 in EUR"
    assert billing.db.events(PaymentReceived) == []
    receivable = await billing.run(lambda uow: uow.receivables.of_order("o-1"))
    assert receivable is not None and receivable.paid == 0  # not applied: a person decides


async def test_a_payment_booked_by_hand_still_needs_a_known_order() -> None:
    billing, clock = setup()
    manual = ManualPayment(
        amount=Decimal("10.00"),
        currency="EUR",
        method="cash",
        received_on=AT.date(),
        order_id="o-unknown",
    )
    with pytest.raises(NotFound):
        await book_manual_payment(billing, manual, clock=clock)
    assert billing.db.rows("payments") == []
