"""Stripe webhooks: verified with the official ``stripe`` package, each event handled once.

The signature (``Stripe-Signature: t=<unix time>,v1=<HMAC-SHA256 of "t.body">``) is
checked by ``stripe.Webhook.construct_event`` with the endpoint secret from settings
and its tolerance (300 s by default: an older timestamp is a replay and refused). A
verified event's id is stored in ``stripe_events`` in the same unit of work as its
effect, so a redelivered (or replayed) event changes nothing and is answered 200,
which stops Stripe's retries.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from kontor_servicekit.clock import Clock
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.uow import Transactor

from kontor_billing.application.payments import book_payment, book_refund
from kontor_billing.application.unit_of_work import BillingUnitOfWork
from kontor_billing.domain.receivables import ZERO, AppliedPayment, BookedPayment
from kontor_billing.domain.stripe_events import (
    CHARGE_REFUNDED,
    PAYMENT_SUCCEEDED,
    StripeEvent,
    payment_of_intent,
    refunds_of_charge,
)

log = logging.getLogger(__name__)

Outcome = Literal["refused", "replayed", "booked", "held", "ignored"]


@dataclass(frozen=True)
class WebhookResult:
    outcome: Outcome
    event_id: str | None = None
    event_type: str | None = None
    reason: str | None = None
    """Why a webhook was refused (signature, timestamp, body)."""
    booked: tuple[BookedPayment, ...] = ()


@dataclass(frozen=True)
class StripeWebhookSettings:
    secret: str | None
    tolerance_s: int = 300


def verify(
    payload: bytes, signature: str | None, settings: StripeWebhookSettings
) -> StripeEvent | str:
    """The verified event, or why it is refused (forged, too old, not an event)."""
    # imported on first use: the stripe package is large and only webhooks need it
    import stripe

    if not settings.secret:
        # nothing can be verified: refused like a forgery (and said so in the log)
        log.warning("a Stripe webhook was refused: no webhook secret is configured")
        return "Stripe webhooks are not configured (no webhook secret in settings)"
    try:
        stripe.Webhook.construct_event(
            payload, signature, settings.secret, tolerance=settings.tolerance_s
        )
    except stripe.SignatureVerificationError as exc:
        return f"signature refused: {exc.user_message or exc}"
    except ValueError as exc:  # the body is not JSON (json.JSONDecodeError)
        return f"not a Stripe event: {exc}"
    data = json.loads(payload)
    if not isinstance(data, dict):
        return "not a Stripe event: the body is not an object"
    return StripeEvent.of(data)


async def _refunded_of_charge(
    uow: BillingUnitOfWork, applied: list[AppliedPayment], charge_id: str, intent_id: Any
) -> Decimal:
    """Every refund of the charge already on the ledger: the growth booked from earlier
    events (``<charge>:<cents>``) and refunds booked under their own id for the charge or
    its intent, by an earlier event or by a payout item (ADR 0071), so the cumulative
    ``amount_refunded`` books only what is new."""
    total = ZERO
    for p in applied:
        if p.amount >= 0:
            continue
        if p.payment_id.startswith(f"{charge_id}:"):
            total += -p.amount
            continue
        stored = await uow.payments.get(p.payment_id)
        if stored is not None and stored.reference in (charge_id, intent_id):
            total += -p.amount
    return total


async def _charge_refunded(
    uow: BillingUnitOfWork, event: StripeEvent, now: datetime
) -> list[BookedPayment]:
    charge = event.object
    charge_id = str(charge.get("id", ""))
    intent_id = charge.get("payment_intent")
    paid = await uow.payments.get(str(intent_id)) if intent_id else None
    metadata = charge.get("metadata") or {}
    number = (paid.invoice_number if paid else None) or metadata.get("invoice_number")
    if number is None and metadata.get("order_id"):
        of_order = await uow.receivables.of_order(str(metadata["order_id"]))
        number = of_order.invoice_number if of_order else None
    if not number:
        raise NotFound("invoice of charge", charge_id)
    receivable = await uow.receivables.get(number)
    if receivable is None:
        raise NotFound("receivable", number)
    so_far = await _refunded_of_charge(uow, receivable.payments, charge_id, intent_id)
    booked = []
    for refund in refunds_of_charge(event, number, Decimal(so_far)):
        booked.append(await book_refund(uow, refund, now))
    return booked


async def handle_stripe_webhook(
    transactor: Transactor[BillingUnitOfWork],
    payload: bytes,
    signature: str | None,
    *,
    settings: StripeWebhookSettings,
    clock: Clock,
) -> WebhookResult:
    """Verify, then handle the event once: book the payment or the refund it reports."""
    verified = verify(payload, signature, settings)
    if isinstance(verified, str):
        return WebhookResult("refused", reason=verified)
    event = verified

    async def work(uow: BillingUnitOfWork) -> WebhookResult:
        now = clock()
        if not await uow.stripe_events.add(event.id, event.type, now):
            return WebhookResult("replayed", event.id, event.type)
        if event.type == PAYMENT_SUCCEEDED:
            booking = payment_of_intent(event)
            # faster than OrderPlaced through orders and the broker: held, not refused
            # (Stripe would retry for minutes to days), released by OrderPlaced (ADR 0148)
            booked = await book_payment(uow, booking, now, hold_unknown_order=True)
            outcome: Outcome = "held" if booked.payment.held else "booked"
            return WebhookResult(outcome, event.id, event.type, booked=(booked,))
        if event.type == CHARGE_REFUNDED:
            refunds = await _charge_refunded(uow, event, now)
            return WebhookResult("booked", event.id, event.type, booked=tuple(refunds))
        return WebhookResult("ignored", event.id, event.type)

    return await transactor.run(work)
