"""Invoices by German rules. Pure: no framework, broker or database.

- Numbers are consecutive per calendar year without gaps (§14 Abs. 4 Nr. 4 UStG,
  GoBD): ``RE-2026-000001``. The number is assigned by the caller inside the same
  transaction that stores the invoice.
- Amounts are taken from the order as the customer saw them (line net and line VAT,
  rounded per line) and summed per VAT rate for the VAT breakdown (§14 Abs. 4 Nr. 8).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from kontor_servicekit.clock import BERLIN

PAYMENT_TERM_DAYS = 14


def invoice_number(year: int, sequence: int) -> str:
    if sequence < 1:
        raise ValueError("invoice sequences start at 1")
    return f"RE-{year}-{sequence:06d}"


def numbering_year(issued_at: datetime) -> int:
    """The business year of an invoice: the calendar year in Germany."""
    if issued_at.tzinfo is None:
        raise ValueError("time must be timezone-aware")
    return issued_at.astimezone(BERLIN).year


@dataclass(frozen=True)
class InvoiceLine:
    line_no: int
    sku: str | None
    description: str
    quantity: int
    unit_price_net: Decimal
    vat_rate: Decimal
    net: Decimal
    vat: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat


@dataclass(frozen=True)
class VatRow:
    vat_rate: Decimal
    net: Decimal
    vat: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat


@dataclass(frozen=True)
class Party:
    name: str
    email: str
    street: str
    postcode: str
    city: str
    country: str
    company: str | None = None


@dataclass
class Invoice:
    id: str
    number: str
    order_id: str
    order_number: str | None
    buyer: Party
    currency: str
    lines: list[InvoiceLine]
    issued_at: datetime
    buyer_vat_id: str | None = None
    vat_breakdown: list[VatRow] = field(default_factory=list)

    @property
    def issue_date(self) -> date:
        return self.issued_at.astimezone(BERLIN).date()

    @property
    def due_date(self) -> date:
        return self.issue_date + timedelta(days=PAYMENT_TERM_DAYS)

    @property
    def net_total(self) -> Decimal:
        return sum((row.net for row in self.vat_breakdown), Decimal("0"))

    @property
    def vat_total(self) -> Decimal:
        return sum((row.vat for row in self.vat_breakdown), Decimal("0"))

    @property
    def gross_total(self) -> Decimal:
        return self.net_total + self.vat_total

    @classmethod
    def issue(
        cls,
        *,
        invoice_id: str,
        number: str,
        order_id: str,
        order_number: str | None,
        buyer: Party,
        currency: str,
        lines: list[InvoiceLine],
        issued_at: datetime,
        buyer_vat_id: str | None = None,
    ) -> Invoice:
        if not lines:
            raise ValueError("an invoice needs at least one line")
        if issued_at.tzinfo is None:
            raise ValueError("time must be timezone-aware")
        return cls(
            id=invoice_id,
            number=number,
            order_id=order_id,
            order_number=order_number,
            buyer=buyer,
            currency=currency,
            lines=lines,
            issued_at=issued_at,
            buyer_vat_id=buyer_vat_id,
            vat_breakdown=vat_breakdown(lines),
        )


def vat_breakdown(lines: list[InvoiceLine]) -> list[VatRow]:
    """Net and VAT summed per rate, highest rate first."""
    net: dict[Decimal, Decimal] = defaultdict(Decimal)
    vat: dict[Decimal, Decimal] = defaultdict(Decimal)
    for line in lines:
        key = line.vat_rate.normalize()
        net[key] += line.net
        vat[key] += line.vat
    return [VatRow(vat_rate=r, net=net[r], vat=vat[r]) for r in sorted(net, reverse=True)]
