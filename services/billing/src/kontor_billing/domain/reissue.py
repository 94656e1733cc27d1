"""Storno and a new invoice (issue 11): after a cancellation the merchant may issue a
new invoice for the same order, e.g. with the buyer's address corrected. Pure.

One *valid* invoice per order: the new invoice is the next ``generation`` of the order's
invoices, and only after the one before it was cancelled; storage keeps one invoice per
order and generation, so two racing reissues cannot both win (ADR 0025).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from kontor_billing.domain.order import Buyer

REISSUE_NOTE = "Ersetzt die stornierte Rechnung {number} (Storno {cancellation})."


@dataclass(frozen=True)
class BuyerCorrection:
    """What the merchant corrects of the buyer; None keeps what the cancelled invoice said."""

    name: str | None = None
    company: str | None = None
    street: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None
    email: str | None = None
    vat_id: str | None = None

    def applied_to(self, buyer: Buyer) -> Buyer:
        changes = {
            f.name: value.strip()
            for f in fields(self)
            if (value := getattr(self, f.name)) is not None
        }
        return replace(buyer, **changes)


def reissue_note(number: str, cancellation: str) -> str:
    return REISSUE_NOTE.format(number=number, cancellation=cancellation)
