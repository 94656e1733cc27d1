"""Invoices, cancellations and corrections by German rules. Pure: no framework, broker
or database.

- Numbers are consecutive per calendar year and document kind without gaps (§14 Abs. 4
  Nr. 4 UStG, GoBD): ``RE-2026-000001``, ``ST-2026-000001`` (cancellation, Storno),
  ``KR-2026-000001`` (correction, Rechnungskorrektur). The number is assigned by the
  caller inside the same transaction that stores the document.
- Amounts are taken from the order as the customer saw them (line net and line VAT,
  rounded per line) and summed per VAT category and rate for the VAT breakdown
  (§14 Abs. 4 Nr. 8).
- An issued document is never changed: a cancellation or a correction is a document of
  its own that references the original and carries negative amounts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from kontor_contracts.money import allocate, quantize
from kontor_servicekit.aggregate import RecordsEvents
from kontor_servicekit.clock import BERLIN

from kontor_billing.domain.events import (
    CorrectionWasIssued,
    InvoiceWasCancelled,
    InvoiceWasIssued,
)
from kontor_billing.domain.order import BilledOrder, Buyer, OrderedLine
from kontor_billing.domain.seller import SAMPLE_NOTE, Seller

PAYMENT_TERM_DAYS = 14
Kind = Literal["invoice", "cancellation", "correction"]
KINDS: tuple[Kind, ...] = ("invoice", "cancellation", "correction")

SUPPLY_DATE_NOTE = "Leistungsdatum entspricht Rechnungsdatum."
SMALL_BUSINESS_NOTE = "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet (Kleinunternehmer)."
INTRA_COMMUNITY_NOTE = "Steuerfreie innergemeinschaftliche Lieferung (§4 Nr. 1b, §6a UStG)"

Party = Buyer
"""The buyer of an invoice (kept under its old name)."""


def document_number(prefix: str, year: int, sequence: int) -> str:
    if sequence < 1:
        raise ValueError("document sequences start at 1")
    return f"{prefix}{year}-{sequence:06d}"


def invoice_number(year: int, sequence: int) -> str:
    return document_number("RE-", year, sequence)


def number_range(number: str) -> str:
    """The number range (prefix and year) a number belongs to: ``RE-2026``."""
    return number.rsplit("-", 1)[0]


def numbering_year(issued_at: datetime) -> int:
    """The business year of a document: the calendar year in Germany."""
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
    vat_category: str = "S"
    """EN 16931 VAT category: S standard/reduced, Z zero, E exempt (§19), K intra-EU."""

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat


@dataclass(frozen=True)
class VatRow:
    vat_rate: Decimal
    net: Decimal
    vat: Decimal
    category: str = "S"

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat


@dataclass
class Invoice(RecordsEvents):
    """An issued document: an invoice, a cancellation of one, or a correction of one."""

    id: str
    number: str
    order_id: str
    order_number: str | None
    buyer: Buyer
    currency: str
    lines: list[InvoiceLine]
    issued_at: datetime
    vat_breakdown: list[VatRow] = field(default_factory=list)
    kind: Kind = "invoice"
    seller: Seller | None = None
    supply_date: date | None = None
    """None: the date of supply is the issue date (the note says so)."""
    notes: list[str] = field(default_factory=list)
    original_id: str | None = None
    original_number: str | None = None
    """For a cancellation or a correction: the invoice it refers to (BT-25)."""
    reason: str | None = None
    return_id: str | None = None
    """For a correction: the return (or complaint) whose refund it documents."""
    destination_country: str | None = None
    """Where the goods went (the order's shipping address); None: stored before."""
    vat_country: str | None = None
    """A distance sale taxed in the destination state (One-Stop-Shop, ADR 0026), whose
    rates the lines carry; None: German VAT (or an exemption)."""
    original_issue_date: date | None = None
    """For a cancellation or a correction: the issue date of the invoice it refers to (BT-26)."""
    generation: int = 1
    """An invoice of an order whose earlier invoices were cancelled: 2, 3, ... (a reissue).
    Storage allows one invoice per order and generation, so never two valid ones."""

    @property
    def buyer_vat_id(self) -> str | None:
        return self.buyer.vat_id

    @property
    def issue_date(self) -> date:
        return self.issued_at.astimezone(BERLIN).date()

    @property
    def due_date(self) -> date:
        days = self.buyer.payment_term_days
        return self.issue_date + timedelta(days=PAYMENT_TERM_DAYS if days is None else days)

    @property
    def net_total(self) -> Decimal:
        return sum((row.net for row in self.vat_breakdown), Decimal("0"))

    @property
    def vat_total(self) -> Decimal:
        return sum((row.vat for row in self.vat_breakdown), Decimal("0"))

    @property
    def gross_total(self) -> Decimal:
        return self.net_total + self.vat_total

    @property
    def sample(self) -> bool:
        return self.seller is not None and self.seller.sample

    @classmethod
    def issue(
        cls,
        *,
        invoice_id: str,
        number: str,
        order_id: str,
        order_number: str | None,
        buyer: Buyer,
        currency: str,
        lines: list[InvoiceLine],
        issued_at: datetime,
        buyer_vat_id: str | None = None,
        seller: Seller | None = None,
        supply_date: date | None = None,
        notes: list[str] | None = None,
        destination_country: str | None = None,
        vat_country: str | None = None,
    ) -> Invoice:
        if not lines:
            raise ValueError("an invoice needs at least one line")
        if issued_at.tzinfo is None:
            raise ValueError("time must be timezone-aware")
        if buyer_vat_id is not None:
            buyer = replace(buyer, vat_id=buyer_vat_id)
        invoice = cls(
            id=invoice_id,
            number=number,
            order_id=order_id,
            order_number=order_number,
            buyer=buyer,
            currency=currency,
            lines=lines,
            issued_at=issued_at,
            vat_breakdown=vat_breakdown(lines),
            seller=seller,
            supply_date=supply_date,
            notes=_standard_notes(seller, supply_date, notes or []),
            destination_country=destination_country,
            vat_country=vat_country,
        )
        invoice.record(InvoiceWasIssued(invoice_id))
        return invoice

    def cancellation(
        self, *, cancellation_id: str, number: str, issued_at: datetime, reason: str, seller: Seller
    ) -> Invoice:
        """The cancellation document (Storno) negating this invoice in full."""
        lines = [
            replace(line, quantity=-line.quantity, net=-line.net, vat=-line.vat)
            for line in self.lines
        ]
        document = self._referring(
            "cancellation", cancellation_id, number, issued_at, lines, reason, seller, None
        )
        document.record(InvoiceWasCancelled(self.id, document.id))
        return document

    def correction(
        self,
        *,
        correction_id: str,
        number: str,
        issued_at: datetime,
        lines: list[InvoiceLine],
        reason: str,
        return_id: str | None,
        seller: Seller,
    ) -> Invoice:
        """A correction (Rechnungskorrektur) of this invoice for what was refunded."""
        document = self._referring(
            "correction", correction_id, number, issued_at, lines, reason, seller, return_id
        )
        document.record(CorrectionWasIssued(document.id))
        return document

    def _referring(
        self,
        kind: Kind,
        document_id: str,
        number: str,
        issued_at: datetime,
        lines: list[InvoiceLine],
        reason: str,
        seller: Seller,
        return_id: str | None,
    ) -> Invoice:
        """A document of ``kind`` that refers to this invoice (BT-25) and its supply."""
        if self.kind != "invoice":
            raise ValueError(f"only an invoice can have a {kind}")
        if not lines:
            raise ValueError(f"a {kind} needs at least one line")
        title = "Stornorechnung" if kind == "cancellation" else "Rechnungskorrektur"
        supply = self.supply_date or self.issue_date
        notes = [
            f"{title} zur Rechnung {self.number} vom {self.issue_date:%d.%m.%Y}. Grund: {reason}",
            *(n for n in self.notes if n not in (SUPPLY_DATE_NOTE, SAMPLE_NOTE)),
        ]
        return Invoice(
            id=document_id,
            number=number,
            order_id=self.order_id,
            order_number=self.order_number,
            buyer=self.buyer,
            currency=self.currency,
            lines=lines,
            issued_at=issued_at,
            vat_breakdown=vat_breakdown(lines),
            kind=kind,
            seller=seller,
            supply_date=supply,
            notes=_standard_notes(seller, supply, notes),
            original_id=self.id,
            original_number=self.number,
            reason=reason,
            return_id=return_id,
            destination_country=self.destination_country,
            vat_country=self.vat_country,
            original_issue_date=self.issue_date,
        )


def _standard_notes(seller: Seller | None, supply_date: date | None, notes: list[str]) -> list[str]:
    kept = list(notes)
    if supply_date is None and SUPPLY_DATE_NOTE not in kept:
        kept.append(SUPPLY_DATE_NOTE)
    if seller is not None and seller.sample and SAMPLE_NOTE not in kept:
        kept.append(SAMPLE_NOTE)
    return kept


def vat_breakdown(lines: list[InvoiceLine]) -> list[VatRow]:
    """Net and VAT summed per VAT category and rate, highest rate first."""
    net: dict[tuple[Decimal, str], Decimal] = defaultdict(Decimal)
    vat: dict[tuple[Decimal, str], Decimal] = defaultdict(Decimal)
    for line in lines:
        key = (line.vat_rate.normalize(), line.vat_category)
        net[key] += line.net
        vat[key] += line.vat
    return [
        VatRow(vat_rate=rate, net=net[(rate, cat)], vat=vat[(rate, cat)], category=cat)
        for rate, cat in sorted(net, key=lambda k: (k[0], k[1]), reverse=True)
    ]


def _category(rate: Decimal, *, exempt_intra_eu: bool, small_business: bool) -> str:
    if small_business:
        return "E"
    if rate > 0:
        return "S"
    return "K" if exempt_intra_eu else "Z"


def _invoice_line(
    line: OrderedLine, line_no: int, *, intra_eu: bool, small_business: bool
) -> InvoiceLine:
    if small_business:
        # §19 UStG: no VAT is shown; the price the customer pays is the whole price
        return InvoiceLine(
            line_no=line_no,
            sku=line.sku,
            description=line.description,
            quantity=line.quantity,
            unit_price_net=line.unit_price_gross,
            vat_rate=Decimal("0"),
            net=line.gross,
            vat=Decimal("0.00"),
            vat_category="E",
        )
    return InvoiceLine(
        line_no=line_no,
        sku=line.sku,
        description=line.description,
        quantity=line.quantity,
        unit_price_net=line.unit_price_net,
        vat_rate=line.vat_rate,
        net=line.net,
        vat=line.vat,
        vat_category=_category(line.vat_rate, exempt_intra_eu=intra_eu, small_business=False),
    )


def build_invoice(
    order: BilledOrder,
    *,
    invoice_id: str,
    number: str,
    seller: Seller,
    issued_at: datetime,
    small_business: bool = False,
) -> Invoice:
    """The invoice of ``order`` (placed and due) with every §14 field."""
    placed = order.placed
    if placed is None:
        raise ValueError("an order is invoiced from its OrderPlaced")
    intra_eu = placed.exemption_note is not None and not small_business
    lines = [
        _invoice_line(line, n, intra_eu=intra_eu, small_business=small_business)
        for n, line in enumerate([*placed.lines, *placed.shipping], start=1)
    ]
    notes: list[str] = []
    if small_business:
        notes.append(SMALL_BUSINESS_NOTE)
    elif intra_eu:
        notes.append(
            f"{placed.exemption_note}. USt-IdNr. des Lieferers: {seller.vat_id or '-'}, "
            f"USt-IdNr. des Abnehmers: {placed.buyer.vat_id or '-'}"
        )
    oss = placed.vat_country is not None and not small_business and not intra_eu
    if oss:
        notes.append(oss_note(placed.vat_country or ""))
    if placed.discount_gross:
        codes = ", ".join(placed.coupon_codes)
        notes.append(
            f"Im Preis enthaltener Nachlass{f' (Gutschein {codes})' if codes else ''}: "
            f"{placed.discount_gross:f} {placed.currency} brutto"
        )
    supply = order.shipped_at.astimezone(BERLIN).date() if order.shipped_at else None
    return Invoice.issue(
        invoice_id=invoice_id,
        number=number,
        order_id=order.order_id,
        order_number=placed.order_number,
        buyer=placed.buyer,
        currency=placed.currency,
        lines=lines,
        issued_at=issued_at,
        seller=seller,
        supply_date=supply,
        notes=notes,
        destination_country=placed.destination_country,
        vat_country=placed.vat_country if oss else None,
    )


def oss_note(country: str) -> str:
    """What an invoice taxed in the destination state says (§3c UStG, One-Stop-Shop)."""
    return (
        f"Fernverkauf nach §3c UStG: Umsatzsteuer des Bestimmungslandes {country} "
        "(Steuersätze dieses Mitgliedstaats), erklärt im One-Stop-Shop (OSS)."
    )


@dataclass(frozen=True)
class Refunded:
    """What a completed return (or a complaint's refund) gave back."""

    lines: list[tuple[int, int]]
    """(order line_no, quantity)"""
    includes_shipping: bool
    amount_gross: Decimal


def refund_lines(invoice: Invoice, refunded: Refunded) -> list[InvoiceLine]:
    """The correction's lines: per refunded line (and shipping) its share, negative.

    When the refund is exactly what the lines (and shipping) cost, each line is given
    back as invoiced (pro rata of its quantity); a smaller or larger amount (a price
    reduction, a deduction for wear) is split over them by gross in proportion, and
    net and VAT are taken from each part's gross at its rate. VAT per rate follows.
    """
    by_no = {line.line_no: line for line in invoice.lines}
    shares: list[tuple[InvoiceLine, int, Decimal, Decimal]] = []  # line, qty, net, vat
    currency = invoice.currency
    for line_no, quantity in refunded.lines:
        line = by_no.get(line_no)
        if line is None or line.sku is None or line.quantity <= 0:
            continue
        part = Decimal(min(quantity, line.quantity)) / Decimal(line.quantity)
        shares.append(
            (
                line,
                min(quantity, line.quantity),
                quantize(line.net * part, currency),
                quantize(line.vat * part, currency),
            )
        )
    if refunded.includes_shipping:
        for line in invoice.lines:
            if line.sku is None:
                shares.append((line, line.quantity, line.net, line.vat))
    if not shares:  # an amount without lines: over the whole invoice
        shares = [(line, line.quantity, line.net, line.vat) for line in invoice.lines]
    full = sum((net + vat for _, _, net, vat in shares), Decimal("0"))
    if refunded.amount_gross != full:
        grosses = allocate(
            quantize(refunded.amount_gross, currency),
            [net + vat for _, _, net, vat in shares],
            currency,
        )
        resized = []
        for (line, qty, _, _), gross in zip(shares, grosses, strict=True):
            net = quantize(gross / (1 + line.vat_rate), currency)
            resized.append((line, qty, net, gross - net))
        shares = resized
    return [
        InvoiceLine(
            line_no=n,
            sku=line.sku,
            description=f"Erstattung: {line.description}",
            quantity=-qty,
            unit_price_net=line.unit_price_net,
            vat_rate=line.vat_rate,
            net=-net,
            vat=-vat,
            vat_category=line.vat_category,
        )
        for n, (line, qty, net, vat) in enumerate(shares, start=1)
    ]
