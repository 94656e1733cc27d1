"""The receivables ledger over the in-memory unit of work: opened with the invoice,
reduced by corrections, closed by a cancellation; payments applied partially, fully
and beyond (a credit), once per payment id; refunds booked against it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial

import pytest
from kontor_billing.application.invoicing import (
    cancel_invoice,
    on_order_confirmed,
    on_order_placed,
    on_return_completed,
)
from kontor_billing.application.payments import book_payment, book_refund
from kontor_billing.domain.receivables import BookedPayment, PaymentBooking, Receivable
from kontor_billing.store.memory import InMemoryBillingUnitOfWork
from kontor_contracts.events.billing import PaymentReceived, PaymentRefunded
from kontor_contracts.events.orders import (
    OrderConfirmed,
    OrderPlaced,
    ReturnCompleted,
    ShippedLine,
)
from kontor_contracts.samples import order_placed_envelope
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.domain_errors import Conflict, Invalid, NotFound
from kontor_servicekit.fakes import FakeTransactor

pytestmark = pytest.mark.unit

AT = datetime(2026, 6, 1, 9, tzinfo=UTC)
Billing = FakeTransactor[InMemoryBillingUnitOfWork]


def placed(order_id: str = "o-1", **changes: object) -> OrderPlaced:
    event = order_placed_envelope(order_id).payload_model()
    assert isinstance(event, OrderPlaced)
    return event.model_copy(update=changes)


async def place(
    billing: Billing, clock: FakeClock, order_id: str = "o-1", **changes: object
) -> None:
    await billing.deliver(partial(on_order_placed, clock=clock), placed(order_id, **changes))


async def invoice(
    billing: Billing, clock: FakeClock, order_id: str = "o-1", **changes: object
) -> Receivable:
    await place(billing, clock, order_id, **changes)
    await billing.deliver(
        partial(on_order_confirmed, clock=clock), OrderConfirmed(order_id=order_id, confirmed_at=AT)
    )
    return await receivable(billing, order_id)


async def receivable(billing: Billing, order_id: str = "o-1") -> Receivable:
    found = await billing.run(lambda uow: uow.receivables.of_order(order_id))
    assert found is not None
    return found


def booking(amount: str, payment_id: str = "p-1", **changes: object) -> PaymentBooking:
    fields: dict[str, object] = {
        "payment_id": payment_id,
        "amount": Decimal(amount),
        "currency": "EUR",
        "method": "bank_transfer",
        "received_at": AT,
        "reference": "RE-2026-000001",
        "invoice_number": "RE-2026-000001",
        **changes,
    }
    return PaymentBooking(**fields)  # type: ignore[arg-type]


async def book(billing: Billing, clock: FakeClock, b: PaymentBooking) -> BookedPayment:
    return await billing.run(lambda uow: book_payment(uow, b, clock()))


def setup() -> tuple[Billing, FakeClock]:
    return FakeTransactor(InMemoryBillingUnitOfWork), FakeClock(
        datetime(2026, 6, 1, 10, tzinfo=UTC)
    )


async def test_an_issued_invoice_opens_its_receivable_in_the_same_unit() -> None:
    billing, clock = setup()
    r = await invoice(billing, clock, payment_method="invoice")
    [issued] = billing.db.rows("invoices")
    assert r.invoice_number == issued.number
    assert r.invoice_id == issued.id
    assert r.order_number == issued.order_number
    assert r.gross_total == issued.gross_total > 0
    assert r.open_amount == issued.gross_total
    assert r.due_date == issued.due_date
    assert r.payment_method == "invoice"
    assert r.customer_email == issued.buyer.email
    assert r.status == "open"


async def test_partial_then_full_payment_and_the_events_say_what_is_open() -> None:
    billing, clock = setup()
    gross = (await invoice(billing, clock)).gross_total
    first = await book(billing, clock, booking("10.00"))
    assert first.receivable is not None
    assert first.receivable.status == "partially_paid"
    assert first.receivable.open_amount == gross - Decimal("10.00")
    rest = gross - Decimal("10.00")
    second = await book(billing, clock, booking(str(rest), payment_id="p-2"))
    assert second.receivable is not None
    assert second.receivable.status == "paid"
    assert second.receivable.open_amount == 0
    assert second.receivable.settled_at == clock()
    events = billing.db.events(PaymentReceived)
    assert [(e.amount, e.open_amount) for e in events] == [
        (Decimal("10.00"), rest),
        (rest, Decimal("0")),
    ]
    assert events[0].order_id == "o-1"
    assert events[0].invoice_number == "RE-2026-000001"
    assert events[0].method == "bank_transfer"
    assert billing.db.outbox[-1].aggregate_id == "o-1"


async def test_an_overpayment_is_kept_as_a_credit() -> None:
    billing, clock = setup()
    gross = (await invoice(billing, clock)).gross_total
    booked = await book(billing, clock, booking(str(gross + Decimal("5.50"))))
    assert booked.receivable is not None
    assert booked.receivable.status == "overpaid"
    assert booked.receivable.overpaid_amount == Decimal("5.50")
    assert booked.receivable.open_amount == 0
    [event] = billing.db.events(PaymentReceived)
    assert event.overpaid_amount == Decimal("5.50")


async def test_the_same_payment_id_twice_books_once_and_answers_the_first() -> None:
    billing, clock = setup()
    await invoice(billing, clock)
    first = await book(billing, clock, booking("10.00"))
    again = await book(billing, clock, booking("10.00"))
    assert again.replayed and not first.replayed
    assert again.payment == first.payment
    assert len(billing.db.rows("payments")) == 1
    assert len(billing.db.events(PaymentReceived)) == 1
    assert (await receivable(billing)).paid == Decimal("10.00")
    with pytest.raises(Conflict):
        await book(billing, clock, booking("11.00"))


async def test_a_payment_by_order_id_before_the_invoice_is_applied_when_it_is_issued() -> None:
    billing, clock = setup()
    await place(billing, clock)
    early = await book(billing, clock, booking("20.00", invoice_number=None, order_id="o-1"))
    assert early.receivable is None
    assert early.payment.invoice_number is None
    [event] = billing.db.events(PaymentReceived)
    assert event.order_id == "o-1" and event.open_amount is None
    r = await invoice(billing, clock)
    assert r.paid == Decimal("20.00")
    assert r.open_amount == r.gross_total - Decimal("20.00")
    [stored] = billing.db.rows("payments")
    assert stored.invoice_number == r.invoice_number
    assert len(billing.db.events(PaymentReceived)) == 1  # announced once, when it arrived


async def test_a_correction_reduces_and_a_cancellation_closes_the_receivable() -> None:
    billing, clock = setup()
    r = await invoice(billing, clock)
    await book(billing, clock, booking("10.00"))
    await billing.deliver(
        partial(on_return_completed, clock=clock),
        ReturnCompleted(
            return_id="r-1",
            order_id="o-1",
            refund_amount=Decimal("5.00"),
            currency="EUR",
            includes_shipping=False,
            lines=[ShippedLine(line_no=1, sku=placed().lines[0].sku, quantity=1)],
            completed_at=AT,
        ),
    )
    corrected = await receivable(billing)
    [credit] = corrected.credits
    assert credit.amount == Decimal("5.00")
    assert corrected.open_amount == r.gross_total - Decimal("15.00")
    await billing.run(lambda uow: cancel_invoice(uow, r.invoice_number, "test", clock=clock))
    cancelled = await receivable(billing)
    assert cancelled.status == "cancelled"
    assert cancelled.open_amount == 0
    assert cancelled.overpaid_amount == Decimal("10.00")  # paid money stays a credit
    assert cancelled.cancelled_by is not None and cancelled.cancelled_by.startswith("ST-")


async def test_a_refund_is_booked_against_the_receivable() -> None:
    billing, clock = setup()
    gross = (await invoice(billing, clock)).gross_total
    await book(billing, clock, booking(str(gross + Decimal("3.00"))))
    refund = booking("3.00", payment_id="re-1", method="card", source="stripe")
    booked = await billing.run(lambda uow: book_refund(uow, refund, clock()))
    assert booked.receivable is not None
    assert booked.receivable.status == "paid"
    assert booked.receivable.overpaid_amount == 0
    [event] = billing.db.events(PaymentRefunded)
    assert (event.amount, event.payment_id, event.source) == (Decimal("3.00"), "re-1", "stripe")
    too_much = booking(str(gross + Decimal("1")), payment_id="re-2")
    with pytest.raises(Conflict):
        await billing.run(lambda uow: book_refund(uow, too_much, clock()))


async def test_refusals_unknown_invoice_or_order_other_currency_bad_booking() -> None:
    billing, clock = setup()
    await invoice(billing, clock)
    with pytest.raises(NotFound):
        await book(billing, clock, booking("1.00", invoice_number="RE-2026-999999"))
    with pytest.raises(NotFound):
        await book(billing, clock, booking("1.00", invoice_number=None, order_id="o-404"))
    with pytest.raises(Conflict):
        await book(billing, clock, booking("1.00", currency="USD"))
    with pytest.raises(Invalid) as refused:
        booking("-1.00", order_id="o-1")
    assert {p.loc for p in refused.value.problems} == {("amount",), ("invoice_number",)}
    with pytest.raises(Invalid):
        booking("1.001")
    with pytest.raises(Invalid):
        booking("1.00", received_at=datetime(2026, 6, 1, 9))  # noqa: DTZ001
    assert billing.db.rows("payments") == []


def test_days_overdue_count_from_the_due_date_until_settled() -> None:
    r = Receivable.open(
        invoice_number="RE-2026-000001",
        invoice_id="i-1",
        order_id="o-1",
        order_number=None,
        customer_email="a@example.org",
        customer_name="A",
        currency="EUR",
        gross_total=Decimal("100.00"),
        issue_date=date(2026, 6, 1),
        due_date=date(2026, 6, 15),
        opened_at=AT,
    )
    assert r.days_overdue(date(2026, 6, 15)) == 0
    assert r.days_overdue(date(2026, 6, 25)) == 10
    assert r.dunning_stopped is None
    r.dispute("Ware nie erhalten", AT)
    assert r.dunning_stopped == "disputed"
