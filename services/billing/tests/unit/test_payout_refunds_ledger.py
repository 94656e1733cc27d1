"""Refunds paid out by payout items reach the receivables ledger (ADR 0071): booked
once when handed over (the payment run, the provider's answer), one PaymentRefunded,
nothing more on settlement, and Stripe's ``charge.refunded`` for the same money
(before or after, with or without the refund list) books nothing twice."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
import stripe
from kontor_billing.application.invoicing import (
    on_order_confirmed,
    on_order_placed,
    on_return_completed,
)
from kontor_billing.application.payments import book_payment
from kontor_billing.application.payouts import (
    ProviderRefund,
    create_payment_run,
    execute_provider_refunds,
    give_payout_account,
    on_credit_document,
    return_payout,
    settle_payout,
)
from kontor_billing.application.stripe_webhooks import StripeWebhookSettings, handle_stripe_webhook
from kontor_billing.domain.payouts import PaidSummary
from kontor_billing.domain.receivables import PaymentBooking, Receivable
from kontor_billing.domain.seller import EXAMPLE_SELLER
from kontor_billing.store.memory import InMemoryBillingUnitOfWork
from kontor_contracts.events.billing import CreditNoteIssued, PaymentReceived, PaymentRefunded
from kontor_contracts.events.orders import OrderConfirmed, OrderPlaced, ReturnCompleted, ShippedLine
from kontor_contracts.samples import order_placed_envelope
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.fakes import FakeTransactor

pytestmark = pytest.mark.unit

AT = datetime(2026, 6, 1, 9, tzinfo=UTC)
SECRET = "whsec_test_" + "p" * 24
WEBHOOKS = StripeWebhookSettings(secret=SECRET, tolerance_s=300)
SELLER = replace(EXAMPLE_SELLER, name="Echt GmbH", sample=False, iban="DE89370400440532013000")
CUSTOMER_IBAN = "DE02120300000000202051"
BACK = Decimal("23.79")
Billing = FakeTransactor[InMemoryBillingUnitOfWork]


class Provider:
    """The provider's answer to the refund call: ``re_1`` of charge ``ch_1``."""

    def __init__(self, created: datetime) -> None:
        self.created = created
        self.calls = 0

    async def refund(
        self, *, payment_intent: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> ProviderRefund:
        self.calls += 1
        return ProviderRefund("re_1", "succeeded", charge="ch_1", created=self.created)


async def invoiced(billing: Billing, clock: FakeClock) -> Receivable:
    await billing.run(lambda uow: uow.seller.save(SELLER))
    placed = order_placed_envelope("o-1").payload_model()
    assert isinstance(placed, OrderPlaced)
    await billing.deliver(partial(on_order_placed, clock=clock), placed)
    await billing.deliver(
        partial(on_order_confirmed, clock=clock), OrderConfirmed(order_id="o-1", confirmed_at=AT)
    )
    return await receivable(billing)


async def receivable(billing: Billing) -> Receivable:
    found = await billing.run(lambda uow: uow.receivables.of_order("o-1"))
    assert found is not None
    return found


async def returned(billing: Billing, clock: FakeClock, paid: PaidSummary) -> None:
    """A T-shirt back: the correction, then the refund planned from billing's own event."""
    billing.db.tables.setdefault("paid_orders", {})["o-1"] = ("o-1", paid)
    await billing.deliver(
        partial(on_return_completed, clock=clock),
        ReturnCompleted(
            return_id="r-1",
            order_id="o-1",
            refund_amount=BACK,
            currency="EUR",
            includes_shipping=False,
            lines=[ShippedLine(line_no=1, sku="TEE-RED-M", quantity=1)],
            completed_at=AT,
        ),
    )
    for event in billing.db.events(CreditNoteIssued):
        await billing.deliver(partial(on_credit_document, clock=clock), event)


def signed(event: dict[str, Any]) -> tuple[bytes, str]:
    body = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(
        body, SECRET, timestamp=int(time.time())
    )
    return body.encode(), header


def event(event_id: str, kind: str, obj: dict[str, Any], created: datetime) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "type": kind,
        "created": int(created.timestamp()),
        "data": {"object": obj},
    }


async def webhook(billing: Billing, clock: FakeClock, data: dict[str, Any]) -> Any:
    return await handle_stripe_webhook(billing, *signed(data), settings=WEBHOOKS, clock=clock)


def charge_refunded(event_id: str, created: datetime, *, listed: bool) -> dict[str, Any]:
    charge: dict[str, Any] = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": "pi_1",
        "amount_refunded": 2379,
        "currency": "eur",
        "metadata": {},
    }
    if listed:
        refund = {"id": "re_1", "amount": 2379, "status": "succeeded"}
        charge["refunds"] = {"object": "list", "data": [refund]}
    return event(event_id, "charge.refunded", charge, created)


async def paid_by_card(billing: Billing, clock: FakeClock) -> Receivable:
    r = await invoiced(billing, clock)
    intent = {
        "id": "pi_1",
        "object": "payment_intent",
        "amount_received": int(r.gross_total * 100),
        "currency": "eur",
        "payment_method_types": ["card"],
        "metadata": {"order_id": "o-1"},
    }
    assert (
        await webhook(billing, clock, event("evt_pay", "payment_intent.succeeded", intent, AT))
    ).outcome == "booked"
    await returned(billing, clock, PaidSummary(r.gross_total, "card", provider_reference="pi_1"))
    return r


async def paid_by_bank_and_returned(billing: Billing, clock: FakeClock) -> Receivable:
    """Invoiced, paid in full by bank transfer, a T-shirt back: a SEPA refund planned."""
    r = await invoiced(billing, clock)
    money = PaymentBooking(
        payment_id="bank:tx-1:" + r.invoice_number,
        amount=r.gross_total,
        currency="EUR",
        method="bank_transfer",
        received_at=AT,
        source="bank",
        invoice_number=r.invoice_number,
    )
    await billing.run(lambda uow: book_payment(uow, money, AT))
    await returned(
        billing, clock, PaidSummary(r.gross_total, "bank_transfer", payer_iban=CUSTOMER_IBAN)
    )
    return r


def refunds(billing: Billing) -> list[PaymentRefunded]:
    return billing.db.events(PaymentRefunded)


async def test_a_sepa_refund_is_booked_once_when_its_run_is_made() -> None:
    billing, clock = FakeTransactor(InMemoryBillingUnitOfWork), FakeClock(AT)
    r = await paid_by_bank_and_returned(billing, clock)
    assert refunds(billing) == []  # planned is not paid out
    run = await create_payment_run(billing, execution_date=None, due_until=None, clock=clock)
    [item] = run.items
    assert item.ledger_payment_id == f"payout:{item.number}"
    [refunded] = refunds(billing)
    assert (refunded.payment_id, refunded.amount, refunded.source, refunded.method) == (
        f"payout:{item.number}",
        BACK,
        "payout",
        "bank_transfer",
    )
    assert refunded.invoice_number == r.invoice_number and refunded.order_id == "o-1"
    after = await receivable(billing)
    assert after.paid == r.gross_total - BACK
    assert (after.status, after.open_amount, after.overpaid_amount) == ("paid", 0, 0)
    # the statement shows the transfer: settled, booked nothing more
    clock.set(AT + timedelta(days=2))
    await billing.run(lambda uow: settle_payout(uow, item.number, at=clock()))
    assert len(refunds(billing)) == 1
    assert (await receivable(billing)).paid == r.gross_total - BACK


async def test_a_returned_sepa_refund_is_reversed_once_and_paid_again_to_another_account() -> None:
    """ADR 0077: the bank brings the transfer back (account closed): the refund booked for
    it is reversed (the customer's credit is open again, PaymentReceived), the item waits
    for another account; the next run pays it again and books that refund once."""
    billing, clock = FakeTransactor(InMemoryBillingUnitOfWork), FakeClock(AT)
    r = await paid_by_bank_and_returned(billing, clock)
    [item] = (
        await create_payment_run(billing, execution_date=None, due_until=None, clock=clock)
    ).items
    clock.set(AT + timedelta(days=3))

    async def bounce(booking_id: str) -> Any:
        return await billing.run(
            lambda uow: return_payout(
                uow,
                item.number,
                booking_id=booking_id,
                reason="AC04 Konto erloschen",
                received_at=clock(),
                at=clock(),
            )
        )

    back = await bounce("bt-return-1")
    assert (back.status, back.returns, back.iban, back.ledger_payment_id) == (
        "awaiting_account",
        1,
        None,
        None,
    )
    assert back.failure == "returned by the bank: AC04 Konto erloschen"
    reversed_ = billing.db.events(PaymentReceived)[-1]
    assert (reversed_.payment_id, reversed_.amount) == ("payout-return:bt-return-1", BACK)
    credit = await receivable(billing)
    assert (credit.paid, credit.status, credit.overpaid_amount) == (r.gross_total, "overpaid", BACK)
    assert await bounce("bt-return-1") is None  # nothing sent under it now: nothing again
    assert len(billing.db.events(PaymentReceived)) == 2
    # the first transfer's debit, imported after its return, changes nothing
    late = await billing.run(lambda uow: settle_payout(uow, item.number, at=clock()))
    assert late is not None and late.status == "awaiting_account"

    await give_payout_account(
        billing, item.number, iban="DE75512108001245126199", name=None, bic=None, clock=clock
    )
    [again] = (
        await create_payment_run(billing, execution_date=None, due_until=None, clock=clock)
    ).items
    assert (again.number, again.iban, again.ledger_payment_id) == (
        item.number,
        "DE75512108001245126199",
        f"payout:{item.number}:2",
    )
    assert [e.payment_id for e in refunds(billing)] == [
        f"payout:{item.number}",
        f"payout:{item.number}:2",
    ]
    assert (await receivable(billing)).paid == r.gross_total - BACK
    # the second transfer's debit settles it, and books nothing more
    await billing.run(lambda uow: settle_payout(uow, item.number, at=clock()))
    [settled] = billing.db.rows("payout_items")
    assert settled.status == "settled" and len(refunds(billing)) == 2


async def test_a_provider_refund_is_booked_under_its_id_and_stripes_events_add_nothing() -> None:
    billing, clock = FakeTransactor(InMemoryBillingUnitOfWork), FakeClock(AT)
    r = await paid_by_card(billing, clock)
    provider = Provider(created=AT + timedelta(minutes=5))
    done = await execute_provider_refunds(billing, provider, clock=clock)
    assert len(done.settled) == 1 and provider.calls == 1
    [refunded] = refunds(billing)
    assert (refunded.payment_id, refunded.amount, refunded.source) == ("re_1", BACK, "payout")
    # Stripe tells of the same refund: listed by id, then only as the cumulative figure
    listed = await webhook(
        billing, clock, charge_refunded("evt_r1", AT + timedelta(hours=1), listed=True)
    )
    assert [b.replayed for b in listed.booked] == [True]
    cumulative = await webhook(
        billing, clock, charge_refunded("evt_r2", AT + timedelta(hours=2), listed=False)
    )
    assert cumulative.booked == ()
    assert len(refunds(billing)) == 1
    assert (await receivable(billing)).paid == r.gross_total - BACK


@pytest.mark.parametrize("listed", [True, False], ids=["listed", "cumulative"])
async def test_stripes_event_first_then_the_providers_answer_books_nothing_twice(
    listed: bool,
) -> None:
    billing, clock = FakeTransactor(InMemoryBillingUnitOfWork), FakeClock(AT)
    r = await paid_by_card(billing, clock)
    # the webhook overtakes the provider's answer (the refund was made at +5 min)
    first = await webhook(
        billing, clock, charge_refunded("evt_r", AT + timedelta(minutes=6), listed=listed)
    )
    assert [b.replayed for b in first.booked] == [False]
    await execute_provider_refunds(billing, Provider(AT + timedelta(minutes=5)), clock=clock)
    [refunded] = refunds(billing)
    assert refunded.source == "stripe"
    [item] = billing.db.rows("payout_items")
    assert item.status == "settled"
    assert item.ledger_payment_id == ("re_1" if listed else "ch_1:2379")
    assert (await receivable(billing)).paid == r.gross_total - BACK


async def test_a_cumulative_event_made_before_the_refund_does_not_hide_it() -> None:
    """An earlier refund of the same charge (made in Stripe's dashboard, reported before
    ours was made) is its own money: the provider's refund is still booked."""
    billing, clock = FakeTransactor(InMemoryBillingUnitOfWork), FakeClock(AT)
    r = await paid_by_card(billing, clock)
    early = charge_refunded("evt_early", AT + timedelta(minutes=1), listed=False)
    early["data"]["object"]["amount_refunded"] = 500
    assert [b.payment.amount for b in (await webhook(billing, clock, early)).booked] == [
        Decimal("5.00")
    ]
    await execute_provider_refunds(billing, Provider(AT + timedelta(minutes=5)), clock=clock)
    assert [e.payment_id for e in refunds(billing)] == ["ch_1:500", "re_1"]
    assert (await receivable(billing)).paid == r.gross_total - BACK - Decimal("5.00")
