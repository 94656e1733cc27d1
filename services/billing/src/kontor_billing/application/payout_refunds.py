"""A refund paid out by a payout item reaches the receivables ledger (ADR 0071).

When a refund item is handed over (``sent``: written into a payment run's pain.001
file, or accepted by the provider's refund call) it is booked with ``book_refund``
in the same unit of work: the receivable's paid figure goes down and
``PaymentRefunded`` is published once (orders' ``amount_paid`` follows). The item
remembers the booking (``ledger_payment_id``), so a later settlement books nothing.

The payment id says where the refund is known from, so Stripe's ``charge.refunded``
for the same money books nothing twice:

- a SEPA refund: ``payout:<item number>``;
- a provider refund: the provider's refund id (``re_...``): Stripe's webhook books
  each refund it lists under that id, so whichever comes second is a replay. A webhook
  without the list books the growth of ``amount_refunded`` beyond every refund of the
  charge already on the ledger (``stripe_webhooks``); and when such a webhook came
  first (its event created at or after the refund), the item takes that booking as its
  own instead of booking again.
"""

from __future__ import annotations

import logging
from datetime import datetime

from kontor_billing.application.payments import book_payment, book_refund
from kontor_billing.application.unit_of_work import BillingUnitOfWork
from kontor_billing.domain.payouts import PayoutItem
from kontor_billing.domain.receivables import PaymentBooking

log = logging.getLogger(__name__)

SEPA_REFUND_METHOD = "bank_transfer"


def ledger_payment_id(item: PayoutItem) -> str:
    """The refund's payment id: each hand-over after a return is a booking of its own."""
    if item.route == "provider" and item.provider_refund_id:
        return item.provider_refund_id
    return f"payout:{item.number}" + (f":{item.returns + 1}" if item.returns else "")


async def _reported_by_webhook(
    uow: BillingUnitOfWork,
    invoice_number: str,
    charge: str | None,
    created: datetime | None,
) -> str | None:
    """The id of a cumulative ``charge.refunded`` booking (``<charge>:<cents>``) of an
    event made after the refund, which therefore already counted it."""
    if not charge or created is None:
        return None
    receivable = await uow.receivables.get(invoice_number)
    if receivable is None:
        return None
    for applied in receivable.payments:
        if (
            applied.amount < 0
            and applied.payment_id.startswith(f"{charge}:")
            and applied.received_at >= created
        ):
            return applied.payment_id
    return None


async def book_paid_out_refund(
    uow: BillingUnitOfWork,
    item: PayoutItem,
    at: datetime,
    *,
    charge: str | None = None,
    created: datetime | None = None,
) -> bool:
    """Book ``item``'s refund on the ledger once (True when this call booked it).

    ``charge`` and ``created``: the provider's charge id and the refund's creation time,
    when the provider answered them (to recognise a webhook that reported it first)."""
    if item.kind != "refund" or item.ledger_payment_id is not None or item.order_id is None:
        return False
    document = await uow.invoices.by_number(item.source_number)
    invoice_number = document.original_number if document is not None else None
    receivable = await uow.receivables.get(invoice_number) if invoice_number else None
    if receivable is None or invoice_number is None:
        return False  # nothing on the ledger to book against (refused by book_refund too)
    if item.route == "provider":
        known = await _reported_by_webhook(uow, invoice_number, charge, created)
        if known is not None:
            item.ledger_payment_id = known
            return False
    payment_id = ledger_payment_id(item)
    if receivable.paid < item.amount and await uow.payments.get(payment_id) is None:
        # the money paid is not on the ledger (booked around it): a refund beyond it
        # would be refused, and must not stop the run or the provider's answer
        log.warning(
            "refund %s of %s %s not booked on %s: the ledger shows only %s paid",
            item.number,
            item.amount,
            item.currency,
            invoice_number,
            receivable.paid,
        )
        return False
    booking = PaymentBooking(
        payment_id=payment_id,
        amount=item.amount,
        currency=item.currency,
        method=SEPA_REFUND_METHOD if item.route == "sepa" else "card",
        received_at=at,
        source="payout",
        reference=(charge or item.provider_reference) if item.route == "provider" else item.number,
        invoice_number=invoice_number,
    )
    booked = await book_refund(uow, booking, at)
    item.ledger_payment_id = booking.payment_id
    return not booked.replayed


async def book_returned_refund(
    uow: BillingUnitOfWork,
    item: PayoutItem,
    *,
    booking_id: str,
    received_at: datetime,
    now: datetime,
) -> bool:
    """``item``'s transfer came back on the bank statement (booking ``booking_id``): the
    refund booked for it is reversed by a payment in of the same amount against its
    invoice (``PaymentReceived``; the customer's credit is open again), once per booking.
    False when nothing was on the ledger to reverse."""
    if item.kind != "refund" or item.ledger_payment_id is None:
        return False
    document = await uow.invoices.by_number(item.source_number)
    invoice_number = document.original_number if document is not None else None
    if invoice_number is None:
        return False
    booking = PaymentBooking(
        payment_id=f"payout-return:{booking_id}",
        amount=item.amount,
        currency=item.currency,
        method=SEPA_REFUND_METHOD,
        received_at=received_at,
        source="bank",
        reference=f"returned refund {item.number}",
        invoice_number=invoice_number,
    )
    booked = await book_payment(uow, booking, now)
    return not booked.replayed
