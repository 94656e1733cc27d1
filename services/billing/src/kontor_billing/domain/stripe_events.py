"""What a (verified) Stripe event means for the ledger, read from its JSON.

``payment_intent.succeeded``: money received; the intent's id is the payment id (so the
same intent in a second event still books once), the amount ``amount_received`` in the
currency's minor unit, the order id or invoice number from the intent's ``metadata``
(``order_id``, ``invoice_number``: set by the shop when it creates the intent).

``charge.refunded``: money paid back. Each refund in ``refunds.data`` is booked under its
own id; where the event does not list them (API versions since 2022-11-15 do not expand
``refunds``), the growth of the cumulative ``amount_refunded`` is booked under
``<charge id>:<amount_refunded>``. The charge's receivable is the one its intent paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from kontor_contracts.money import MINOR_UNITS
from kontor_servicekit.domain_errors import Invalid

from kontor_billing.domain.receivables import PaymentBooking

PAYMENT_SUCCEEDED = "payment_intent.succeeded"
CHARGE_REFUNDED = "charge.refunded"
HANDLED = (PAYMENT_SUCCEEDED, CHARGE_REFUNDED)

#: Stripe payment method types and the method PaymentReceived names.
METHODS = {"card": "card", "paypal": "paypal", "sepa_debit": "sepa_direct_debit"}


@dataclass(frozen=True)
class StripeEvent:
    id: str
    type: str
    created: datetime
    object: dict[str, Any]

    @classmethod
    def of(cls, data: dict[str, Any]) -> StripeEvent:
        try:
            return cls(
                id=str(data["id"]),
                type=str(data["type"]),
                created=datetime.fromtimestamp(int(data["created"]), tz=UTC),
                object=dict(data["data"]["object"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise Invalid(f"not a Stripe event: {exc!r} missing or malformed") from exc


def from_minor_units(amount: Any, currency: str) -> Decimal:
    places = MINOR_UNITS.get(currency, 2)
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise Invalid("a Stripe amount is a non-negative integer in minor units")
    return Decimal(amount).scaleb(-places)


def _currency(obj: dict[str, Any]) -> str:
    return str(obj.get("currency", "")).upper()


def _method(obj: dict[str, Any]) -> str:
    types = obj.get("payment_method_types") or []
    for kind in types:
        if kind in METHODS:
            return METHODS[kind]
    return "wallet" if types else "card"


def payment_of_intent(event: StripeEvent) -> PaymentBooking:
    """The booking of a succeeded payment intent (its metadata names the order or invoice)."""
    intent = event.object
    metadata = intent.get("metadata") or {}
    invoice_number = metadata.get("invoice_number") or None
    order_id = None if invoice_number else metadata.get("order_id") or None
    if invoice_number is None and order_id is None:
        raise Invalid(
            "the payment intent's metadata names neither order_id nor invoice_number",
            field=("data", "object", "metadata"),
        )
    currency = _currency(intent)
    return PaymentBooking(
        payment_id=str(intent["id"]),
        amount=from_minor_units(intent.get("amount_received"), currency),
        currency=currency,
        method=_method(intent),
        received_at=event.created,
        source="stripe",
        reference=str(intent["id"]),
        invoice_number=invoice_number,
        order_id=order_id,
    )


def refunds_of_charge(
    event: StripeEvent, invoice_number: str, refunded_so_far: Decimal
) -> list[PaymentBooking]:
    """The refunds a ``charge.refunded`` event reports (see the module docstring).

    ``refunded_so_far``: what was booked from this charge's cumulative figure before.
    """
    charge = event.object
    currency = _currency(charge)
    common: dict[str, Any] = {
        "currency": currency,
        "method": _method(charge) if charge.get("payment_method_types") else "card",
        "source": "stripe",
        "invoice_number": invoice_number,
    }
    listed = (charge.get("refunds") or {}).get("data") or []
    if listed:
        return [
            PaymentBooking(
                payment_id=str(refund["id"]),
                amount=from_minor_units(refund.get("amount"), currency),
                received_at=datetime.fromtimestamp(int(refund.get("created", 0)), tz=UTC)
                if refund.get("created")
                else event.created,
                reference=str(charge["id"]),
                **common,
            )
            for refund in listed
            if refund.get("status", "succeeded") == "succeeded"
        ]
    total = from_minor_units(charge.get("amount_refunded"), currency)
    grown = total - refunded_so_far
    if grown <= 0:
        return []
    return [
        PaymentBooking(
            payment_id=f"{charge['id']}:{charge.get('amount_refunded')}",
            amount=grown,
            received_at=event.created,
            reference=str(charge["id"]),
            **common,
        )
    ]
