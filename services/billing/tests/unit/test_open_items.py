"""Open items (OPOS): what an invoice still asks after credits, payments and refunds,
overdue days, and the CSV a German spreadsheet opens (and never runs a formula from)."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from kontor_billing.domain.invoice import Invoice, InvoiceLine, vat_breakdown
from kontor_billing.domain.open_items import open_items_csv, payable_item, receivable_items
from kontor_billing.domain.order import Buyer

pytestmark = pytest.mark.unit

BUYER = Buyer("Anna Muster", "anna@example.de", "Hauptstr. 1", "10115", "Berlin", "DE")


def document(
    number: str,
    gross: str,
    kind: str = "invoice",
    original: str | None = None,
    buyer: Buyer = BUYER,
) -> Invoice:
    net = (Decimal(gross) / Decimal("1.19")).quantize(Decimal("0.01"))
    line = InvoiceLine(1, "SKU", "Ware", 1, net, Decimal("0.19"), net, Decimal(gross) - net)
    return Invoice(
        id=number,
        number=number,
        order_id=f"o-{number}",
        order_number=None,
        buyer=buyer,
        currency="EUR",
        lines=[line],
        issued_at=datetime(2026, 6, 1, 10, tzinfo=UTC),  # due 15 June
        vat_breakdown=vat_breakdown([line]),
        kind=kind,  # type: ignore[arg-type]
        original_number=original,
    )


def test_an_invoice_is_open_by_what_credits_payments_and_refunds_leave() -> None:
    docs = [
        document("RE-1", "119.00"),  # unpaid
        document("RE-2", "119.00"),  # partly paid
        document("RE-3", "119.00"),  # paid in full
        document("RE-4", "119.00"),  # paid, 19.00 credited, not refunded yet: a credit
        document("KR-1", "-19.00", "correction", "RE-4"),
        document("RE-5", "119.00"),  # paid, credited and refunded: settled
        document("KR-2", "-19.00", "correction", "RE-5"),
        document("RE-6", "119.00"),  # cancelled
        document("ST-1", "-119.00", "cancellation", "RE-6"),
    ]
    paid = {n: Decimal("119.00") for n in ("RE-3", "RE-4", "RE-5")} | {"RE-2": Decimal("100")}
    items = receivable_items(docs, paid, date(2026, 6, 25), {"KR-2": Decimal("19.00")})
    got = {i.number: (i.open_amount, i.days_overdue) for i in items}
    assert got == {
        "RE-1": (Decimal("119.00"), 10),
        "RE-2": (Decimal("19.00"), 10),
        "RE-4": (Decimal("-19.00"), 0),  # the customer's credit: not overdue
    }
    assert [i.number for i in items] == ["RE-1", "RE-2", "RE-4"]  # most overdue first


def test_the_csv_is_semicolons_decimal_commas_and_neutralised_text() -> None:
    shady = replace(BUYER, name='=HYPERLINK("http://x";"Klick")')
    items = receivable_items([document("RE-1", "1234.56", buyer=shady)], {}, date(2026, 6, 1))
    items.append(
        payable_item(
            number="-LS 1",
            supplier="Stoff AG",
            issue_date=date(2026, 5, 20),
            due_date=date(2026, 6, 19),
            currency="EUR",
            amount_due=Decimal("1190.00"),
            skonto_until=date(2026, 5, 30),
            today=date(2026, 6, 1),
        )
    )
    text = open_items_csv(items)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows[0][:3] == ["side", "number", "party"]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["party"] == '\'=HYPERLINK("http://x";"Klick")'
    assert (first["amount"], first["open_amount"], first["due_date"]) == (
        "1234,56",
        "1234,56",
        "15.06.2026",
    )
    second = dict(zip(rows[0], rows[2], strict=True))
    assert (second["side"], second["number"], second["skonto_until"]) == (
        "payable",
        "'-LS 1",
        "30.05.2026",
    )
