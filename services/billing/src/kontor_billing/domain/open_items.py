"""Open items (OPOS): what customers still owe and what billing still owes suppliers.
Pure: no framework, broker or database.

A receivable is read from the receivables ledger, the one place that says what an
invoice still asks (its gross total less the credits of its corrections and
cancellation, less the payments and refunds applied to it); it is open while that is
not zero (negative: the customer's credit, to refund or to apply). A payable is an approved
incoming invoice no supplier payment was sent for yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from kontor_billing.domain.receivables import Receivable

Side = Literal["receivable", "payable"]


@dataclass(frozen=True)
class OpenItem:
    side: Side
    number: str
    """The invoice's number (ours, or the supplier's)."""
    party: str
    issue_date: date | None
    due_date: date | None
    currency: str
    amount: Decimal
    """The document's gross (receivable) or amount due (payable)."""
    settled: Decimal
    """Credited and paid (receivable) or paid out (payable)."""
    open_amount: Decimal
    days_overdue: int
    order_number: str | None = None
    skonto_until: date | None = None
    record_id: str | None = None
    """A payable's incoming invoice (its ``id``); a receivable's record is ``number``."""


def _overdue(due: date | None, today: date) -> int:
    return max((today - due).days, 0) if due else 0


def receivable_items(receivables: list[Receivable], today: date) -> list[OpenItem]:
    """Open receivables as the receivables ledger has them (ADR 0028, 0072): what each
    invoice still asks after its credits and cancellation, less the money applied to it
    (payments in, refunds out), the longest overdue first. A negative open amount is the
    customer's credit (paid beyond what is due), never overdue."""
    items = []
    for r in receivables:
        balance = r.amount_due - r.paid
        if balance == 0:
            continue
        items.append(
            OpenItem(
                side="receivable",
                number=r.invoice_number,
                party=r.company or r.customer_name,
                issue_date=r.issue_date,
                due_date=r.due_date,
                currency=r.currency,
                amount=r.gross_total,
                settled=r.gross_total - balance,
                open_amount=balance,
                days_overdue=r.days_overdue(today) if balance > 0 else 0,
                order_number=r.order_number,
            )
        )
    return sorted(items, key=lambda i: (-i.days_overdue, i.number))


def payable_item(
    *,
    number: str,
    supplier: str,
    issue_date: date | None,
    due_date: date | None,
    currency: str,
    amount_due: Decimal,
    skonto_until: date | None,
    today: date,
    record_id: str | None = None,
) -> OpenItem:
    return OpenItem(
        side="payable",
        number=number,
        party=supplier,
        issue_date=issue_date,
        due_date=due_date,
        currency=currency,
        amount=amount_due,
        settled=Decimal("0"),
        open_amount=amount_due,
        days_overdue=_overdue(due_date, today),
        skonto_until=skonto_until,
        record_id=record_id,
    )


CSV_COLUMNS = (
    "side",
    "number",
    "party",
    "issue_date",
    "due_date",
    "currency",
    "amount",
    "settled",
    "open_amount",
    "days_overdue",
    "order_number",
    "skonto_until",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:f}".replace(".", ",")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        text = "'" + text  # a spreadsheet shows it as text, never runs it (OWASP)
    if any(c in text for c in ';"\r\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def open_items_csv(items: list[OpenItem]) -> str:
    """``;``-separated, decimal comma, dates ``TT.MM.JJJJ``: what a German spreadsheet
    opens as it is."""
    rows = [";".join(CSV_COLUMNS)]
    rows += [";".join(_cell(getattr(i, c)) for c in CSV_COLUMNS) for i in items]
    return "\r\n".join(rows) + "\r\n"


@dataclass(frozen=True)
class BankBalance:
    amount: Decimal
    on: date
    iban: str


@dataclass(frozen=True)
class OpenItems:
    side: Side
    as_of: date
    items: list[OpenItem]
    bank_balance: BankBalance | None
    """The closing balance of the last bank statement imported, if any."""

    @property
    def total(self) -> Decimal:
        return sum((i.open_amount for i in self.items), Decimal("0"))
