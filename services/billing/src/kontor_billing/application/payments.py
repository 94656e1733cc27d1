"""Booking money: a payment (by hand, from a card provider, from a bank statement) is
applied to its receivable and announced as ``PaymentReceived`` (orders follows it:
``amount_paid``, ``paid``); a refund paid out is booked against the receivable and
announced as ``PaymentRefunded``. All in the caller's unit of work.

The payment id is the idempotency key: a second booking with the same id (a webhook
delivered twice, a statement imported twice) changes nothing and answers the first
booking; the same id for different money is a Conflict.
"""

from __future__ import annotations

from datetime import datetime

from kontor_contracts.events.billing import PaymentReceived, PaymentRefunded
from kontor_servicekit.domain_errors import Conflict, NotFound

from kontor_billing.application.unit_of_work import BillingUnitOfWork
from kontor_billing.domain.receivables import (
    BookedPayment,
    Payment,
    PaymentBooking,
    PaymentDirection,
    Receivable,
)


async def _receivable_for(
    uow: BillingUnitOfWork, booking: PaymentBooking
) -> tuple[str, Receivable | None]:
    """The order and receivable a booking pays (None: the order is not invoiced yet)."""
    if booking.invoice_number is not None:
        receivable = await uow.receivables.get(booking.invoice_number)
        if receivable is None:
            raise NotFound("invoice", booking.invoice_number)
        return receivable.order_id, receivable
    assert booking.order_id is not None  # PaymentBooking checks one of the two is given
    receivable = await uow.receivables.of_order(booking.order_id)
    if receivable is not None:
        return booking.order_id, receivable
    order = await uow.orders.get(booking.order_id)
    if order is None or order.placed is None:
        raise NotFound("order", booking.order_id)
    if order.placed.currency != booking.currency:
        raise Conflict(
            f"payment in {booking.currency} for order {booking.order_id} in {order.placed.currency}"
        )
    return booking.order_id, None


async def _replayed(uow: BillingUnitOfWork, booking: PaymentBooking) -> BookedPayment | None:
    first = await uow.payments.get(booking.payment_id)
    if first is None:
        return None
    if not first.same_as(booking):
        raise Conflict(
            f"payment id {booking.payment_id} was booked for {first.amount} {first.currency}"
        )
    receivable = await uow.receivables.get(first.invoice_number) if first.invoice_number else None
    return BookedPayment(payment=first, receivable=receivable, replayed=True)


async def _book(
    uow: BillingUnitOfWork, booking: PaymentBooking, now: datetime, direction: PaymentDirection
) -> tuple[BookedPayment, bool]:
    replay = await _replayed(uow, booking)
    if replay is not None:
        return replay, False
    order_id, receivable = await _receivable_for(uow, booking)
    if receivable is None and direction == "out":
        raise NotFound("receivable of order", order_id)
    payment = Payment.of(booking, order_id=order_id, booked_at=now, direction=direction)
    if receivable is not None:
        receivable.apply(payment, now)
        receivable.pull_events()
        await uow.receivables.save(receivable)
    await uow.payments.add(payment)
    return BookedPayment(payment=payment, receivable=receivable), True


async def book_payment(
    uow: BillingUnitOfWork, booking: PaymentBooking, now: datetime
) -> BookedPayment:
    """Apply money received to its receivable (partial, full or over) and announce it."""
    booked, new = await _book(uow, booking, now, "in")
    if new:
        payment, receivable = booked.payment, booked.receivable
        uow.emit(
            PaymentReceived(
                payment_id=payment.payment_id,
                order_id=payment.order_id,
                invoice_id=payment.invoice_id,
                amount=payment.amount,
                currency=payment.currency,
                method=payment.method,
                received_at=payment.received_at,
                reference=payment.reference,
                invoice_number=payment.invoice_number,
                open_amount=receivable.open_amount if receivable else None,
                overpaid_amount=receivable.overpaid_amount if receivable else None,
                source=payment.source,
            ),
            aggregate_id=payment.order_id,
        )
    return booked


async def book_refund(
    uow: BillingUnitOfWork, booking: PaymentBooking, now: datetime
) -> BookedPayment:
    """Book money paid back to the customer against the receivable and announce it."""
    booked, new = await _book(uow, booking, now, "out")
    if new:
        payment, receivable = booked.payment, booked.receivable
        uow.emit(
            PaymentRefunded(
                payment_id=payment.payment_id,
                order_id=payment.order_id,
                invoice_id=payment.invoice_id,
                invoice_number=payment.invoice_number,
                amount=payment.amount,
                currency=payment.currency,
                method=payment.method,
                refunded_at=payment.received_at,
                reference=payment.reference,
                open_amount=receivable.open_amount if receivable else None,
                source=payment.source,
            ),
            aggregate_id=payment.order_id,
        )
    return booked
