"""Open items (OPOS): what customers still owe and what billing still owes suppliers.
Pure: no framework, broker or database.

A receivable is an invoice's gross total less the credits of its corrections and
cancellation and less the payments applied to it; it is open while that is not zero
(negative: the customer's credit, to refund or to apply). A payable is an approved
incoming invoice no supplier payment was sent for yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from kontor_billing.domain.invoice import Invoice

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


def _overdue(due: date | None, today: date) -> int:
    return max((today - due).days, 0) if due else 0


def receivable_items(
    documents: list[Invoice],
    paid: dict[str, Decimal],
    today: date,
    refunded: dict[str, Decimal] | None = None,
) -> list[OpenItem]:
    """Open receivables from the issued documents, the payments per invoice number
    (net of money given back through the payments, e.g. a provider's refund event) and
    the refunds paid out per credit document, the longest overdue first."""
    credits: dict[str, Decimal] = {}
    for doc in documents:
        if doc.kind != "invoice" and doc.original_number:
            back = (refunded or {}).get(doc.number, Decimal("0"))
            credits[doc.original_number] = (
                credits.get(doc.original_number, Decimal("0")) - doc.gross_total - back
            )
    items = []
    for doc in documents:
        if doc.kind != "invoice":
            continue
        settled = credits.get(doc.number, Decimal("0")) + paid.get(doc.number, Decimal("0"))
        open_amount = doc.gross_total - settled
        if open_amount == 0:
            continue
        items.append(
            OpenItem(
                side="receivable",
                number=doc.number,
                party=doc.buyer.company or doc.buyer.name,
                issue_date=doc.issue_date,
                due_date=doc.due_date,
                currency=doc.currency,
                amount=doc.gross_total,
                settled=settled,
                open_amount=open_amount,
                days_overdue=_overdue(doc.due_date, today) if open_amount > 0 else 0,
                order_number=doc.order_number,
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
