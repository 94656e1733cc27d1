"""How long billing keeps what it stores (§147 AO as amended from 2025, ADR 0027). Pure.

Every stored kind belongs to one class of §147 Abs. 1 AO, each with its period in years,
counted from the end of the calendar year the document was made in (§147 Abs. 4 AO):

- booking vouchers (Buchungsbelege, Nr. 4): invoices, cancellations, corrections, and
  later payments and incoming invoices: 8 years (since the Viertes
  Bürokratieentlastungsgesetz, from 2025; before 10);
- books and records (Bücher, Aufzeichnungen, Nr. 1): the audit log, journals, exports:
  10 years;
- business letters (Handels- und Geschäftsbriefe, Nr. 2, 3): quotes, dunning letters:
  6 years.

A document of 2017 kept 8 years is kept until 31.12.2025 and deletable from 1.1.2026.
The periods are settings (``RETENTION_*_YEARS``) with these defaults; a longer period
never hurts, a shorter one breaks the law.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from kontor_billing.domain.audit import PURGED

__all__ = [
    "KIND_CLASSES",
    "PURGED",
    "Deletable",
    "RetentionClass",
    "RetentionPeriods",
    "last_deletable_year",
    "retention_ends",
]

RetentionClass = Literal["booking_voucher", "books_and_records", "business_letter"]

#: Every kind billing stores (or will: payments, incoming invoices, quotes, dunning) and
#: its class. A kind not listed here has no period and is never listed as deletable.
KIND_CLASSES: dict[str, RetentionClass] = {
    "invoice": "booking_voucher",
    "cancellation": "booking_voucher",
    "correction": "booking_voucher",
    "payment": "booking_voucher",
    "incoming_invoice": "booking_voucher",
    "audit_chain": "books_and_records",
    "journal": "books_and_records",
    "export": "books_and_records",
    "quote": "business_letter",
    "dunning_letter": "business_letter",
}


@dataclass(frozen=True)
class RetentionPeriods:
    booking_voucher: int = 8
    books_and_records: int = 10
    business_letter: int = 6

    def years(self, kind: str) -> int:
        """The period of ``kind`` in years; KeyError for a kind without a class."""
        cls: RetentionClass = KIND_CLASSES[kind]
        return int(getattr(self, cls))


def retention_ends(year: int, years: int) -> date:
    """The last day a document made in ``year`` must be kept for ``years``."""
    return date(year + years, 12, 31)


def last_deletable_year(as_of: date, years: int) -> int:
    """The youngest year whose documents kept ``years`` may be deleted on ``as_of``."""
    return as_of.year - years - 1


@dataclass(frozen=True)
class Deletable:
    """Something whose retention period has ended on the day asked about."""

    number: str
    kind: str
    year: int
    retention_ends: date

    @classmethod
    def of(cls, number: str, kind: str, year: int, periods: RetentionPeriods) -> Deletable:
        return cls(number, kind, year, retention_ends(year, periods.years(kind)))

    def deletable_on(self, day: date) -> bool:
        return day > self.retention_ends
