"""Incoming (supplier) invoices: what was received, how it was judged, who approved it.

Pure rules (issue 12, "Incoming invoices"; ADR 0031):

- :class:`InvoiceFields` is what a document says (EN 16931 business terms, BT numbers
  in the comments); read from the XML by ``documents/incoming_read.py`` or typed in by a
  person for a plain PDF. Every field may be missing: a refused document is kept with
  what could be read.
- :class:`ValidationReport` is the judgement: ``accepted``, ``accepted_with_warnings``,
  ``refused`` (rule ids) or ``not_checked`` (a plain PDF: no e-invoice, no rules).
- :class:`IncomingInvoice` is the record. Its file (sha256) and fields never change
  after approval; only its status moves on (approved -> paid by the payouts).
- Skonto: the XRechnung convention in BT-20 (``#SKONTO#TAGE=14#PROZENT=2.00#``,
  optionally ``BASISBETRAG=``), the deadline counted from the issue date.
- :func:`due_entries` lists what is due, the earliest deadline first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal

from kontor_servicekit.aggregate import RecordsEvents
from kontor_servicekit.domain_errors import Conflict, IllegalTransition, Invalid

CENT = Decimal("0.01")

Format = Literal["cii", "ubl", "facturx-pdf", "pdf"]
Outcome = Literal["accepted", "accepted_with_warnings", "refused", "not_checked"]
Status = Literal["incomplete", "received", "refused", "approved", "rejected", "paid"]
STATUSES: tuple[Status, ...] = ("incomplete", "received", "refused", "approved", "rejected", "paid")
#: What may still be paid: shown in the due list.
OPEN: tuple[Status, ...] = ("received", "approved")

#: SKR03 / SKR04 account numbers: four digits (up to eight with longer account lengths).
ACCOUNT = re.compile(r"^[0-9]{4,8}$")
#: A Skonto of more days than this (ten years), or of no percentage, is no payment term.
MAX_TERM_DAYS = 3650
LARGEST_BASIS = Decimal("1e15")
SKONTO = re.compile(r"#SKONTO#([^\n]*?)#(?:\s|$)")


@dataclass(frozen=True)
class Address:
    street: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class Supplier:
    name: str | None = None  # BT-27
    vat_id: str | None = None  # BT-31
    tax_number: str | None = None  # BT-32
    address: Address = field(default_factory=Address)  # BG-5
    iban: str | None = None  # BT-84
    bic: str | None = None  # BT-86
    email: str | None = None  # BT-43

    @property
    def key(self) -> str | None:
        """Who the supplier is for duplicate checks: the VAT id, else the name."""
        if self.vat_id:
            return self.vat_id.replace(" ", "").upper()
        if self.name:
            return " ".join(self.name.lower().split())
        return None


@dataclass(frozen=True)
class VatRow:
    category: str | None  # BT-118
    rate: Decimal | None  # BT-119
    basis: Decimal | None  # BT-116
    vat: Decimal | None  # BT-117


@dataclass(frozen=True)
class Line:
    line_id: str | None  # BT-126
    name: str | None  # BT-153
    quantity: Decimal | None  # BT-129
    unit_code: str | None  # BT-130
    unit_price: Decimal | None  # BT-146
    net: Decimal | None  # BT-131
    vat_category: str | None  # BT-151
    vat_rate: Decimal | None  # BT-152
    seller_item_id: str | None = None  # BT-155


@dataclass(frozen=True)
class Skonto:
    """A cash discount: ``percent`` off ``basis`` (if none: the amount due) if paid by
    ``until``."""

    percent: Decimal
    days: int | None
    until: date | None
    basis: Decimal | None = None

    def discount(self, amount: Decimal) -> Decimal:
        base = self.basis if self.basis is not None else amount
        return (base * self.percent / 100).quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class InvoiceFields:
    type_code: str | None = None  # BT-3: 380 invoice, 381 credit note, 384 correction
    number: str | None = None  # BT-1
    issue_date: date | None = None  # BT-2
    due_date: date | None = None  # BT-9
    delivery_date: date | None = None  # BT-72
    currency: str | None = None  # BT-5
    supplier: Supplier = field(default_factory=Supplier)
    buyer_name: str | None = None  # BT-44
    buyer_reference: str | None = None  # BT-10 (Leitweg-ID)
    order_reference: str | None = None  # BT-13 / BT-14
    net_total: Decimal | None = None  # BT-109
    vat_total: Decimal | None = None  # BT-110
    gross_total: Decimal | None = None  # BT-112
    prepaid: Decimal | None = None  # BT-113
    amount_due: Decimal | None = None  # BT-115
    vat_breakdown: tuple[VatRow, ...] = ()  # BG-23
    payment_terms: str | None = None  # BT-20
    skonto: Skonto | None = None
    lines: tuple[Line, ...] = ()  # BG-25
    specification: str | None = None  # BT-24

    def missing(self) -> list[str]:
        """The fields an invoice needs before it can be approved and paid."""
        wanted = {
            "supplier.name": self.supplier.name,
            "number": self.number,
            "issue_date": self.issue_date,
            "currency": self.currency,
            "gross_total": self.gross_total,
            "amount_due": self.amount_due,
        }
        return [name for name, value in wanted.items() if value in (None, "")]


@dataclass(frozen=True)
class Finding:
    rule: str
    rule_set: str
    text: str
    severity: Literal["fatal", "warning"] = "fatal"


@dataclass(frozen=True)
class ValidationReport:
    outcome: Outcome
    rule_sets: tuple[str, ...]  # what was checked, e.g. ("XSD", "EN16931", "XRechnung")
    errors: tuple[Finding, ...] = ()
    warnings: tuple[Finding, ...] = ()
    not_checked: tuple[str, ...] = ()  # what could not be checked, and why

    @property
    def rule_ids(self) -> list[str]:
        return sorted({f.rule for f in self.errors})


def judged(
    rule_sets: tuple[str, ...], findings: list[Finding], not_checked: tuple[str, ...] = ()
) -> ValidationReport:
    errors = tuple(f for f in findings if f.severity == "fatal")
    warnings = tuple(f for f in findings if f.severity == "warning")
    outcome: Outcome = "refused" if errors else "accepted_with_warnings" if warnings else "accepted"
    return ValidationReport(outcome, rule_sets, errors, warnings, not_checked)


def with_finding(report: ValidationReport, finding: Finding) -> ValidationReport:
    """``report`` with one more finding (of a check outside the rule sets, e.g. the IBAN)."""
    sets = (
        report.rule_sets
        if finding.rule_set in report.rule_sets
        else (
            *report.rule_sets,
            finding.rule_set,
        )
    )
    return judged(sets, [*report.errors, *report.warnings, finding], report.not_checked)


NOT_AN_E_INVOICE = ValidationReport(
    "not_checked", (), not_checked=("a plain PDF is no e-invoice: no EN 16931 rules apply",)
)


def skonto_of_terms(terms: str | None, issue_date: date | None) -> Skonto | None:
    """The first ``#SKONTO#TAGE=n#PROZENT=p#[BASISBETRAG=b#]`` of BT-20 (XRechnung 3.0,
    "Skonto" in the specification's chapter on payment terms), or None."""
    if not terms:
        return None
    for match in SKONTO.finditer(terms + "\n"):
        parts = dict(part.split("=", 1) for part in match.group(1).split("#") if "=" in part)
        try:
            days = int(parts["TAGE"])
            percent = Decimal(parts["PROZENT"])
            basis = Decimal(parts["BASISBETRAG"]) if "BASISBETRAG" in parts else None
        except (KeyError, ValueError, InvalidOperation):
            continue
        if not 0 <= days <= MAX_TERM_DAYS or not 0 < percent < 100:
            continue
        if basis is not None and not (basis.is_finite() and 0 <= basis < LARGEST_BASIS):
            continue
        return Skonto(percent=percent, days=days, until=days_after(issue_date, days), basis=basis)
    return None


def days_after(start: date | None, days: int | None) -> date | None:
    """``start`` plus ``days``, or None if either is unknown or the sum leaves the calendar."""
    if start is None or days is None:
        return None
    try:
        return start + timedelta(days=days)
    except OverflowError:
        return None


@dataclass(frozen=True)
class DuplicateHint:
    of: str  # the id of the other record
    reason: Literal["same_file", "same_supplier_and_number", "same_supplier_amount_and_date"]


def duplicate_hints(fields: InvoiceFields, others: list[IncomingInvoice]) -> list[DuplicateHint]:
    """Why ``fields`` may be a record received before (``others``: the same supplier's)."""
    hints = []
    key = fields.supplier.key
    for other in others:
        if key is None or other.fields.supplier.key != key:
            continue
        if fields.number and other.fields.number == fields.number:
            hints.append(DuplicateHint(other.id, "same_supplier_and_number"))
        elif (
            fields.gross_total is not None
            and fields.issue_date is not None
            and other.fields.gross_total == fields.gross_total
            and other.fields.issue_date == fields.issue_date
        ):
            hints.append(DuplicateHint(other.id, "same_supplier_amount_and_date"))
    return hints


@dataclass(frozen=True)
class IncomingReceived:
    invoice: IncomingInvoice


@dataclass(frozen=True)
class IncomingApproved:
    invoice: IncomingInvoice


@dataclass
class IncomingInvoice(RecordsEvents):
    id: str
    sha256: str
    file_id: str
    filename: str
    media_type: str
    size: int
    format: Format
    fields: InvoiceFields
    report: ValidationReport
    status: Status
    received_at: datetime
    received_by: str | None = None
    duplicates: tuple[DuplicateHint, ...] = ()
    approved_account: str | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    rejected_reason: str | None = None
    rejected_by: str | None = None
    rejected_at: datetime | None = None
    paid_at: datetime | None = None

    @classmethod
    def receive(
        cls,
        *,
        id: str,
        sha256: str,
        file_id: str,
        filename: str,
        media_type: str,
        size: int,
        format: Format,
        fields: InvoiceFields,
        report: ValidationReport,
        duplicates: list[DuplicateHint],
        at: datetime,
        by: str | None,
    ) -> IncomingInvoice:
        status: Status
        if report.outcome == "refused":
            status = "refused"
        elif fields.missing():
            status = "incomplete"
        else:
            status = "received"
        invoice = cls(
            id=id,
            sha256=sha256,
            file_id=file_id,
            filename=filename,
            media_type=media_type,
            size=size,
            format=format,
            fields=fields,
            report=report,
            status=status,
            received_at=at,
            received_by=by,
            duplicates=tuple(duplicates),
        )
        invoice.record(IncomingReceived(invoice))
        return invoice

    @property
    def duplicate_suspected(self) -> bool:
        return bool(self.duplicates)

    def _refuse(self, action: str) -> IllegalTransition:
        return IllegalTransition(f"incoming invoice {self.id}", action, self.status)

    def enter_fields(self, fields: InvoiceFields, duplicates: list[DuplicateHint]) -> None:
        """A person's reading of a plain PDF; e-invoices say their own fields."""
        if self.format != "pdf":
            raise Conflict(
                f"incoming invoice {self.id} is an e-invoice: its fields are the document's",
                details={"format": self.format},
            )
        if self.status not in ("incomplete", "received"):
            raise self._refuse("change the fields of")
        missing = fields.missing()
        if missing:
            raise Invalid(
                "an invoice needs these fields: " + ", ".join(missing),
                field=missing[0].split("."),
            )
        self.fields = fields
        self.duplicates = tuple(duplicates)
        self.status = "received"

    def approve(
        self, *, account: str, by: str, at: datetime, not_a_duplicate: bool = False
    ) -> None:
        if not ACCOUNT.match(account):
            raise Invalid("an SKR03/SKR04 account number has 4 to 8 digits", field=["account"])
        if self.status != "received":
            raise self._refuse("approve")
        if self.duplicates and not not_a_duplicate:
            raise Conflict(
                f"incoming invoice {self.id} may be a duplicate: check it and approve "
                'with "not_a_duplicate": true',
                details={"duplicates": [h.of for h in self.duplicates]},
            )
        self.status = "approved"
        self.approved_account = account
        self.approved_by = by
        self.approved_at = at
        self.record(IncomingApproved(self))

    def reject(self, *, reason: str, by: str, at: datetime) -> None:
        if self.status not in ("incomplete", "received", "refused"):
            raise self._refuse("reject")
        self.status = "rejected"
        self.rejected_reason = reason
        self.rejected_by = by
        self.rejected_at = at


def mark_paid(invoice: IncomingInvoice, at: datetime) -> bool:
    """The transfer paying an approved invoice was settled by the bank: ``paid``. An
    invoice already paid stays as it is (a statement imported again); False when the
    invoice is not approved-or-paid, so the caller leaves it alone (it was approved when
    its payout item was made; a later change is for a person to look at)."""
    if invoice.status == "paid":
        return True
    if invoice.status != "approved":
        return False
    invoice.status = "paid"
    invoice.paid_at = at
    return True


def choose_account(
    supplier: Supplier, per_supplier: dict[str, str], default: str, given: str | None
) -> str:
    """The expense account: the one given, else the supplier's setting, else the default."""
    if given:
        return given
    key = supplier.key
    if key:
        for name, account in per_supplier.items():
            if Supplier(vat_id=name).key == key or Supplier(name=name).key == key:
                return account
    return default


@dataclass(frozen=True)
class DueEntry:
    invoice: IncomingInvoice
    due_date: date | None
    days_left: int | None
    skonto_until: date | None
    skonto_days_left: int | None
    skonto_amount: Decimal | None  # the amount to pay by the Skonto deadline
    next_deadline: date | None


def due_entry(invoice: IncomingInvoice, today: date) -> DueEntry:
    fields = invoice.fields
    skonto = fields.skonto
    until = amount = left = None
    if skonto and skonto.until and skonto.until >= today and fields.amount_due is not None:
        until = skonto.until
        left = (until - today).days
        amount = fields.amount_due - skonto.discount(fields.amount_due)
    due = fields.due_date
    deadlines = [d for d in (until, due) if d is not None]
    return DueEntry(
        invoice=invoice,
        due_date=due,
        days_left=(due - today).days if due else None,
        skonto_until=until,
        skonto_days_left=left,
        skonto_amount=amount,
        next_deadline=min(deadlines) if deadlines else None,
    )


def due_entries(invoices: list[IncomingInvoice], today: date) -> list[DueEntry]:
    """Open invoices by their next deadline (a Skonto deadline still ahead, else the due
    date); those without any date last, oldest received first among equals."""
    entries = [due_entry(i, today) for i in invoices if i.status in OPEN]
    return sorted(
        entries,
        key=lambda e: (e.next_deadline is None, e.next_deadline or today, e.invoice.received_at),
    )


def with_skonto(fields: InvoiceFields) -> InvoiceFields:
    """Fields whose Skonto is read from their payment terms when none is given."""
    if fields.skonto is not None:
        return fields
    return replace(fields, skonto=skonto_of_terms(fields.payment_terms, fields.issue_date))
