"""Open items (OPOS) from the receivables ledger: what an invoice still asks after credits,
payments and refunds, overdue days, and the CSV a German spreadsheet opens (and never
runs a formula from)."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from kontor_billing.domain.open_items import open_items_csv, payable_item, receivable_items
from kontor_billing.domain.receivables import Payment, PaymentBooking, Receivable

pytestmark = pytest.mark.unit

AT = datetime(2026, 6, 1, 10, tzinfo=UTC)


def receivable(number: str, gross: str = "119.00", company: str | None = None) -> Receivable:
    return Receivable.open(
        invoice_number=number,
        invoice_id=number,
        order_id=f"o-{number}",
        order_number=f"B-{number}",
        customer_email="anna@example.de",
        customer_name="Anna Muster",
        currency="EUR",
        gross_total=Decimal(gross),
        issue_date=date(2026, 6, 1),
        due_date=date(2026, 6, 15),
        opened_at=AT,
        company=company,
    )


def money(r: Receivable, payment_id: str, amount: str, direction: str = "in") -> Receivable:
    booking = PaymentBooking(
        payment_id=payment_id,
        amount=Decimal(amount),
        currency="EUR",
        method="bank_transfer",
        received_at=AT,
        invoice_number=r.invoice_number,
    )
    r.apply(Payment.of(booking, order_id=r.order_id, booked_at=AT, direction=direction), AT)  # type: ignore[arg-type]
    return r


def test_an_invoice_is_open_by_what_the_ledger_says_after_credits_payments_and_refunds() -> None:
    credited = money(receivable("RE-4"), "p4", "119.00")
    credited.credit("KR-1", Decimal("19.00"), AT)  # paid, 19.00 credited, not refunded yet
    refunded = money(receivable("RE-5"), "p5", "119.00")
    refunded.credit("KR-2", Decimal("19.00"), AT)
    money(refunded, "payout:AZ-1", "19.00", "out")  # the refund paid out: settled
    cancelled = receivable("RE-6")
    cancelled.cancel("ST-1", AT)
    paid_then_cancelled = money(receivable("RE-7", company="Beispiel GmbH"), "p7", "50.00")
    paid_then_cancelled.cancel("ST-2", AT)
    ledger = [
        receivable("RE-1"),  # unpaid
        money(receivable("RE-2"), "p2", "100.00"),  # partly paid
        money(receivable("RE-3"), "p3", "119.00"),  # paid in full
        credited,
        refunded,
        cancelled,
        paid_then_cancelled,
    ]
    items = receivable_items(ledger, date(2026, 6, 25))
    got = {i.number: (i.open_amount, i.settled, i.days_overdue) for i in items}
    assert got == {
        "RE-1": (Decimal("119.00"), Decimal("0.00"), 10),
        "RE-2": (Decimal("19.00"), Decimal("100.00"), 10),
        "RE-4": (Decimal("-19.00"), Decimal("138.00"), 0),  # the customer's credit
        "RE-7": (Decimal("-50.00"), Decimal("169.00"), 0),  # paid on a cancelled invoice
    }
    assert [i.number for i in items] == ["RE-1", "RE-2", "RE-4", "RE-7"]  # most overdue first
    assert items[-1].party == "Beispiel GmbH" and items[0].order_number == "B-RE-1"


def test_the_csv_is_semicolons_decimal_commas_and_neutralised_text() -> None:
    shady = replace(receivable("RE-1", "1234.56"), customer_name='=HYPERLINK("http://x";"Klick")')
    items = receivable_items([shady], date(2026, 6, 1))
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
