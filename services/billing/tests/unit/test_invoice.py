"""Invoices by German rules: numbering, the business year, VAT breakdown, due date."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kontor_billing.domain.invoice import (
    PAYMENT_TERM_DAYS,
    Invoice,
    InvoiceLine,
    Party,
    VatRow,
    invoice_number,
    numbering_year,
    vat_breakdown,
)

ANNA = Party(
    name="Anna Muster",
    email="anna@example.de",
    street="Hauptstr. 1",
    postcode="10115",
    city="Berlin",
    country="DE",
)
ISSUED = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)


def _line(no: int, net: str, vat: str, rate: str, quantity: int = 1) -> InvoiceLine:
    return InvoiceLine(
        line_no=no,
        sku=f"SKU-{no}",
        description=f"Artikel {no}",
        quantity=quantity,
        unit_price_net=Decimal(net),
        vat_rate=Decimal(rate),
        net=Decimal(net),
        vat=Decimal(vat),
    )


def _issue(lines: list[InvoiceLine], **overrides: Any) -> Invoice:
    values: dict[str, Any] = {
        "invoice_id": "inv-1",
        "number": "RE-2026-000001",
        "order_id": "o-1",
        "order_number": "B-2026-000001",
        "buyer": ANNA,
        "currency": "EUR",
        "lines": lines,
        "issued_at": ISSUED,
    }
    values.update(overrides)
    return Invoice.issue(**values)


# --------------------------------------------------------------------------- numbering


@pytest.mark.parametrize(
    ("year", "sequence", "number"),
    [
        (2026, 1, "RE-2026-000001"),
        (2026, 42, "RE-2026-000042"),
        (2027, 999_999, "RE-2027-999999"),
        (2027, 1_000_000, "RE-2027-1000000"),  # wider, never truncated
    ],
)
def test_invoice_number_format(year: int, sequence: int, number: str) -> None:
    assert invoice_number(year, sequence) == number


@pytest.mark.parametrize("sequence", [0, -1])
def test_sequences_start_at_one(sequence: int) -> None:
    with pytest.raises(ValueError, match="start at 1"):
        invoice_number(2026, sequence)


def test_numbers_sort_in_issue_order_within_a_year() -> None:
    numbers = [invoice_number(2026, n) for n in (1, 2, 10, 100, 999_999)]
    assert sorted(numbers) == numbers


@pytest.mark.parametrize(
    ("issued_at", "year"),
    [
        # New Year's Eve 23:30 UTC is already 00:30 on 1 January in Berlin (CET, +1)
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), 2027),
        (datetime(2026, 12, 31, 22, 59, 59, tzinfo=UTC), 2026),
        (datetime(2026, 12, 31, 23, 0, tzinfo=UTC), 2027),
        # the same instant expressed in another zone gives the same business year
        (datetime(2026, 12, 31, 18, 30, tzinfo=timezone(timedelta(hours=-5))), 2027),
        (datetime(2027, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=2))), 2026),
    ],
)
def test_numbering_year_is_the_calendar_year_in_berlin(issued_at: datetime, year: int) -> None:
    assert numbering_year(issued_at) == year


def test_numbering_year_refuses_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        numbering_year(datetime(2026, 12, 31, 23, 30))  # noqa: DTZ001


# --------------------------------------------------------------------------- VAT breakdown


def test_mixed_19_and_7_percent_lines_are_summed_per_rate_highest_first() -> None:
    invoice = _issue(
        [
            _line(1, "18.69", "1.31", "0.07"),
            _line(2, "39.98", "7.60", "0.19"),
            _line(3, "10.00", "0.70", "0.070"),  # same rate written differently
            _line(4, "4.12", "0.78", "0.19"),
        ]
    )
    assert invoice.vat_breakdown == [
        VatRow(vat_rate=Decimal("0.19"), net=Decimal("44.10"), vat=Decimal("8.38")),
        VatRow(vat_rate=Decimal("0.07"), net=Decimal("28.69"), vat=Decimal("2.01")),
    ]
    assert [row.gross for row in invoice.vat_breakdown] == [Decimal("52.48"), Decimal("30.70")]
    assert invoice.net_total == Decimal("72.79")
    assert invoice.vat_total == Decimal("10.39")
    assert invoice.gross_total == Decimal("83.18")


def test_breakdown_takes_the_line_amounts_as_given_without_recomputing() -> None:
    # The order fixed VAT per line (rounded per line); the invoice must show the same
    # figures the customer saw, not VAT recomputed on the per-rate net sum.
    lines = [_line(n, "0.35", "0.07", "0.19") for n in range(1, 4)]  # 3 x 0.0665 -> 0.07
    [row] = vat_breakdown(lines)
    assert (row.net, row.vat) == (Decimal("1.05"), Decimal("0.21"))  # not 0.20


def test_zero_rate_gets_its_own_row() -> None:
    rows = vat_breakdown([_line(1, "5.00", "0.00", "0"), _line(2, "10.00", "1.90", "0.19")])
    assert [(r.vat_rate, r.net, r.vat) for r in rows] == [
        (Decimal("0.19"), Decimal("10.00"), Decimal("1.90")),
        (Decimal("0"), Decimal("5.00"), Decimal("0.00")),
    ]


def test_line_gross_is_net_plus_vat() -> None:
    assert _line(1, "39.98", "7.60", "0.19").gross == Decimal("47.58")


amounts = st.integers(min_value=0, max_value=10**9).map(lambda c: Decimal(c).scaleb(-2))


@given(
    st.lists(
        st.tuples(amounts, amounts, st.sampled_from(["0.19", "0.190", "0.07", "0.07", "0"])),
        min_size=1,
        max_size=30,
    )
)
def test_breakdown_gross_sums_to_line_gross(rows: list[tuple[Decimal, Decimal, str]]) -> None:
    lines = [
        InvoiceLine(n, None, "x", 1, net, Decimal(rate), net, vat)
        for n, (net, vat, rate) in enumerate(rows, start=1)
    ]
    invoice = _issue(lines)
    breakdown = invoice.vat_breakdown
    assert sum(r.gross for r in breakdown) == sum(line.gross for line in lines)
    assert invoice.gross_total == sum(line.gross for line in lines)
    assert invoice.net_total == sum(line.net for line in lines)
    assert invoice.vat_total == sum(line.vat for line in lines)
    rates = [r.vat_rate for r in breakdown]
    assert rates == sorted(set(rates), reverse=True)  # one row per rate, highest first
    assert {r.normalize() for r in rates} == {Decimal(rate).normalize() for *_, rate in rows}


# --------------------------------------------------------------------------- dates


def test_due_date_is_14_days_after_the_issue_date() -> None:
    invoice = _issue([_line(1, "10.00", "1.90", "0.19")])
    assert PAYMENT_TERM_DAYS == 14
    assert invoice.issue_date == date(2026, 6, 15)
    assert invoice.due_date == date(2026, 6, 29)


def test_issue_and_due_date_are_dates_in_berlin() -> None:
    invoice = _issue(
        [_line(1, "10.00", "1.90", "0.19")],
        issued_at=datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
    )
    assert invoice.issue_date == date(2027, 1, 1)
    assert invoice.due_date == date(2027, 1, 15)


def test_due_date_across_the_summer_time_change() -> None:
    # 22 March 2026 + 14 days crosses the switch to CEST on 29 March
    invoice = _issue(
        [_line(1, "10.00", "1.90", "0.19")], issued_at=datetime(2026, 3, 22, 23, 30, tzinfo=UTC)
    )
    assert invoice.issue_date == date(2026, 3, 23)
    assert invoice.due_date == date(2026, 4, 6)


# --------------------------------------------------------------------------- refusals


def test_an_invoice_needs_a_line() -> None:
    with pytest.raises(ValueError, match="at least one line"):
        _issue([])


def test_issue_refuses_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _issue(
            [_line(1, "10.00", "1.90", "0.19")],
            issued_at=datetime(2026, 6, 15, 8, 0),  # noqa: DTZ001
        )


def test_issue_keeps_what_it_was_given() -> None:
    lines = [_line(1, "10.00", "1.90", "0.19")]
    invoice = _issue(lines, buyer_vat_id="DE123456789")
    assert (invoice.id, invoice.number, invoice.order_id, invoice.order_number) == (
        "inv-1",
        "RE-2026-000001",
        "o-1",
        "B-2026-000001",
    )
    assert invoice.buyer == replace(ANNA, vat_id="DE123456789")  # the buyer carries it now
    assert invoice.lines == lines
    assert invoice.buyer_vat_id == "DE123456789"
    assert invoice.issued_at == ISSUED
