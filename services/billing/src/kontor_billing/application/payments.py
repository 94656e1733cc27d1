"""Booking money: a payment (by hand, from a card provider, from a bank statement) is
applied to its receivable and announced as ``PaymentReceived`` (orders follows it:
``amount_paid``, ``paid``); a refund paid out is booked against the receivable and
announced as ``PaymentRefunded``. All in the caller's unit of work.

The payment id is the idempotency key: a second booking with the same id (a webhook
delivered twice, a statement imported twice) changes nothing and answers the first
booking; the same id for different money is a Conflict.

A provider's report of a payment for an order billing has not seen placed yet (the
webhook is faster than OrderPlaced through orders, the broker and billing's queue) is
held, not refused (ADR 0148): refused, Stripe would retry for minutes to days and the
order would wait that long to show paid. The held payment is stored unannounced, and
the order's document in billing's read model is marked so OrderPlaced and the webhook
write the same document and cannot miss each other. OrderPlaced releases it
(:func:`release_held_payments`): PaymentReceived goes out then, and the invoice applies
it like any prepayment. A payment booked by hand still needs a known order (404).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from kontor_contracts.events.billing import PaymentReceived, PaymentRefunded
from kontor_servicekit.clock import Clock
from kontor_servicekit.domain_errors import Conflict, NotFound
from kontor_servicekit.uow import Transactor

from kontor_billing.application.unit_of_work import BillingUnitOfWork
from kontor_billing.domain.order import BilledOrder
from kontor_billing.domain.receivables import (
    BookedPayment,
    Payment,
    PaymentBooking,
    PaymentDirection,
    Receivable,
    received_moment,
)

AWAITING_ORDER = "the order has not reached billing yet: booked when OrderPlaced arrives"


@dataclass(frozen=True)
class _Target:
    order_id: str
    receivable: Receivable | None = None
    """None: the order is not invoiced yet."""
    held: str | None = None
    """Why the payment is held (the order is not known yet)."""


def _other_currency(booking: Payment | PaymentBooking, order_id: str, currency: str) -> str:
    return f"payment in {booking.currency} for order {order_id} in {currency}"


async def _target_of(
    uow: BillingUnitOfWork, booking: PaymentBooking, *, hold_unknown_order: bool
) -> _Target:
    """The order and receivable a booking pays; an order billing does not know is a
    NotFound, or with ``hold_unknown_order`` a reason to hold the payment."""
    if booking.invoice_number is not None:
        receivable = await uow.receivables.get(booking.invoice_number)
        if receivable is None:
            raise NotFound("invoice", booking.invoice_number)
        return _Target(receivable.order_id, receivable)
    assert booking.order_id is not None  # PaymentBooking checks one of the two is given
    receivable = await uow.receivables.of_order(booking.order_id)
    if receivable is not None:
        return _Target(booking.order_id, receivable)
    order = await uow.orders.get(booking.order_id)
    if order is None or order.placed is None:
        if not hold_unknown_order:
            raise NotFound("order", booking.order_id)
        # written so that OrderPlaced, handled at the same moment, conflicts with this
        # unit of work instead of missing the payment (one of the two is retried)
        order = order or BilledOrder(order_id=booking.order_id)
        order.payments_held = True
        await uow.orders.save(order)
        return _Target(booking.order_id, held=AWAITING_ORDER)
    if order.placed.currency != booking.currency:
        raise Conflict(_other_currency(booking, booking.order_id, order.placed.currency))
    return _Target(booking.order_id)


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
    uow: BillingUnitOfWork,
    booking: PaymentBooking,
    now: datetime,
    direction: PaymentDirection,
    *,
    hold_unknown_order: bool = False,
) -> tuple[BookedPayment, bool]:
    replay = await _replayed(uow, booking)
    if replay is not None:
        return replay, False
    target = await _target_of(uow, booking, hold_unknown_order=hold_unknown_order)
    order_id, receivable = target.order_id, target.receivable
    if receivable is None and direction == "out":
        raise NotFound("receivable of order", order_id)
    payment = Payment.of(booking, order_id=order_id, booked_at=now, direction=direction)
    payment.held = target.held
    if receivable is not None:
        receivable.apply(payment, now)
        receivable.pull_events()
        await uow.receivables.save(receivable)
    await uow.payments.add(payment)
    return BookedPayment(payment=payment, receivable=receivable), True


def _announce(uow: BillingUnitOfWork, payment: Payment, receivable: Receivable | None) -> None:
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


async def book_payment(
    uow: BillingUnitOfWork,
    booking: PaymentBooking,
    now: datetime,
    *,
    hold_unknown_order: bool = False,
) -> BookedPayment:
    """Apply money received to its receivable (partial, full or over) and announce it.

    ``hold_unknown_order``: a provider's report for an order billing does not know yet
    is held (stored, not announced) until OrderPlaced releases it, instead of NotFound.
    """
    booked, new = await _book(uow, booking, now, "in", hold_unknown_order=hold_unknown_order)
    if new and booked.payment.held is None:
        _announce(uow, booked.payment, booked.receivable)
    return booked


async def release_held_payments(uow: BillingUnitOfWork, order: BilledOrder) -> list[Payment]:
    """OrderPlaced reached billing: announce the payments held for the order (they are
    applied when its invoice is issued, as any prepayment). One in another currency than
    the order stays held, with the reason, for a person to book or refund. Returns the
    payments released. The caller saves ``order``."""
    assert order.placed is not None
    released = []
    for payment in await uow.payments.held_of_order(order.order_id):
        if payment.currency != order.placed.currency:
            payment.held = _other_currency(payment, order.order_id, order.placed.currency)
            await uow.payments.save(payment)
            continue
        payment.held = None
        await uow.payments.save(payment)
        _announce(uow, payment, None)
        released.append(payment)
    order.payments_held = False
    return released


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


@dataclass(frozen=True)
class ManualPayment:
    """A payment the merchant books by hand (``POST /payments``)."""

    amount: Decimal
    currency: str
    method: str
    received_on: date
    reference: str | None = None
    order_id: str | None = None
    invoice_number: str | None = None


async def book_manual_payment(
    transactor: Transactor[BillingUnitOfWork], manual: ManualPayment, *, clock: Clock
) -> BookedPayment:
    """Book a payment by hand: a new payment id (a retry is made safe by the route's
    Idempotency-Key), received on the day given (now, if today)."""
    now = clock()
    booking = PaymentBooking(
        payment_id=f"pay_{uuid.uuid4().hex}",
        amount=manual.amount,
        currency=manual.currency,
        method=manual.method,
        received_at=received_moment(manual.received_on, now),
        source="manual",
        reference=manual.reference,
        invoice_number=manual.invoice_number,
        order_id=manual.order_id,
    )
    return await transactor.run(lambda uow: book_payment(uow, booking, now))
