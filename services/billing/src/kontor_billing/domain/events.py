"""What billing's aggregates record when they change (see ``kontor_servicekit.aggregate``).

The application turns each into the contract event other services subscribe to.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InvoiceWasIssued:
    invoice_id: str


@dataclass(frozen=True)
class InvoiceWasCancelled:
    invoice_id: str
    cancellation_id: str


@dataclass(frozen=True)
class CorrectionWasIssued:
    correction_id: str


@dataclass(frozen=True)
class QuoteWasAccepted:
    number: str


@dataclass(frozen=True)
class QuoteWasDeclined:
    number: str


@dataclass(frozen=True)
class QuoteWasExpired:
    number: str
