"""One-Stop-Shop figures from billing's documents: the quarter's return per member state
and rate, corrections in the quarter they were issued, and the threshold (ADR 0026)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from kontor_billing.domain.invoice import Invoice, InvoiceLine, Party, build_invoice
from kontor_billing.domain.order import BilledOrder, OrderedLine, PlacedOrder
from kontor_billing.domain.oss import oss_return, quarter_bounds, threshold
from kontor_billing.domain.seller import EXAMPLE_SELLER

pytestmark = pytest.mark.unit

D = Decimal
PARIS = Party(
    name="Anne Dupont",
    email="anne@example.fr",
    street="1 Rue",
    postcode="75001",
    city="Paris",
    country="FR",
)


def _invoice(
    number: str,
    issued: datetime,
    net: str,
    vat: str,
    rate: str,
    *,
    country: str = "FR",
    taxed_abroad: bool = True,
    vat_id: str | None = None,
) -> Invoice:
    line = InvoiceLine(1, "BIG", "Artikel", 1, D(net), D(rate), D(net), D(vat))
    return Invoice.issue(
        invoice_id=number,
        number=number,
        order_id=f"o-{number}",
        order_number=None,
        buyer=replace(PARIS, country=country),
        buyer_vat_id=vat_id,
        currency="EUR",
        lines=[line],
        issued_at=issued,
        seller=EXAMPLE_SELLER,
        destination_country=country,
        vat_country=country if taxed_abroad else None,
    )


Q3 = datetime(2026, 8, 1, 10, tzinfo=UTC)


def test_quarters() -> None:
    assert quarter_bounds(2026, 3) == (date(2026, 7, 1), date(2026, 10, 1))
    assert quarter_bounds(2026, 4)[1] == date(2027, 1, 1)
    with pytest.raises(ValueError):
        quarter_bounds(2026, 5)


def test_the_return_per_country_and_rate_with_corrections_in_their_own_quarter() -> None:
    fr = _invoice("RE-2026-000001", Q3, "100.00", "20.00", "0.20")
    fr_book = _invoice("RE-2026-000002", Q3, "10.00", "0.55", "0.055")
    at = _invoice("RE-2026-000003", Q3, "50.00", "10.00", "0.20", country="AT")
    home = _invoice("RE-2026-000004", Q3, "84.03", "15.97", "0.19", taxed_abroad=False)
    q2 = _invoice("RE-2026-000005", datetime(2026, 6, 30, 12, tzinfo=UTC), "1.00", "0.20", "0.20")
    # cancelled in Q4: the Q3 return keeps it, the Q4 return subtracts it
    storno = fr.cancellation(
        cancellation_id="st-1",
        number="ST-2026-000001",
        issued_at=datetime(2026, 10, 2, 9, tzinfo=UTC),
        reason="Kunde storniert",
        seller=EXAMPLE_SELLER,
    )
    documents = [fr, fr_book, at, home, q2, storno]

    figures = oss_return(documents, 2026, 3)
    assert [c.country for c in figures.countries] == ["AT", "FR"]
    at_row, fr_row = figures.countries
    assert (fr_row.invoices, fr_row.corrections, fr_row.net, fr_row.vat) == (
        2,
        0,
        D("110.00"),
        D("20.55"),
    )
    assert [(r.vat_rate, r.net, r.vat) for r in fr_row.rates] == [
        (D("0.2"), D("100.00"), D("20.00")),
        (D("0.055"), D("10.00"), D("0.55")),
    ]
    assert (at_row.documents, at_row.vat) == (1, D("10.00"))
    assert (figures.net, figures.vat) == (D("160.00"), D("30.55"))

    q4 = oss_return(documents, 2026, 4)
    [fr_q4] = q4.countries
    assert (fr_q4.invoices, fr_q4.corrections, fr_q4.net, fr_q4.vat) == (
        0,
        1,
        D("-100.00"),
        D("-20.00"),
    )


def test_the_threshold_counts_consumers_abroad_of_both_years_less_corrections() -> None:
    last_year = datetime(2025, 11, 3, 10, tzinfo=UTC)
    docs = [
        _invoice("RE-2025-000001", last_year, "6000.00", "1140.00", "0.19", taxed_abroad=False),
        _invoice("RE-2026-000001", Q3, "9000.00", "1710.00", "0.19", taxed_abroad=False),
        _invoice("RE-2026-000002", Q3.replace(hour=11), "1500.00", "300.00", "0.20"),
        # neither counts: a domestic sale and an intra-community supply
        _invoice("RE-2026-000003", Q3, "50000.00", "9500.00", "0.19", country="DE"),
        _invoice("RE-2026-000004", Q3, "50000.00", "0.00", "0", country="AT", vat_id="ATU13585627"),
    ]
    t = threshold(docs, 2026, opt_in=False)
    assert (t.previous.net, t.previous.exceeded) == (D("6000.00"), False)
    assert (t.current.net, t.current.documents) == (D("10500.00"), 2)
    assert t.current.exceeded_by == "RE-2026-000002"
    assert (t.regime, t.reason) == ("destination", "current_year_exceeded")

    storno = docs[2].cancellation(
        cancellation_id="st",
        number="ST-2026-000001",
        issued_at=Q3.replace(hour=12),
        reason="storniert",
        seller=EXAMPLE_SELLER,
    )
    after = threshold([*docs, storno], 2026, opt_in=False)
    assert (after.current.net, after.regime) == (D("9000.00"), "home")
    assert threshold([], 2026, opt_in=True).reason == "opt_in"
    assert threshold(docs, 2027, opt_in=False).reason == "previous_year_exceeded"


def test_an_invoice_taxed_abroad_says_so_and_its_correction_follows() -> None:
    placed = PlacedOrder(
        order_number="B-2026-000009",
        buyer=PARIS,
        currency="EUR",
        lines=[
            OrderedLine(
                1,
                "BIG",
                "Artikel",
                1,
                D("991.6667"),
                D("1190.00"),
                D("0.20"),
                D("991.67"),
                D("198.33"),
            )
        ],
        destination_country="FR",
        vat_country="FR",
    )
    order = BilledOrder("o-9", placed=placed, confirmed_at=Q3)
    invoice = build_invoice(
        order, invoice_id="i-9", number="RE-2026-000009", seller=EXAMPLE_SELLER, issued_at=Q3
    )
    assert invoice.vat_country == "FR"
    assert any("Bestimmungslandes FR" in n and "§3c UStG" in n for n in invoice.notes)
    assert [(r.vat_rate, r.vat, r.category) for r in invoice.vat_breakdown] == [
        (D("0.2"), D("198.33"), "S")
    ]
    storno = invoice.cancellation(
        cancellation_id="s",
        number="ST-2026-000009",
        issued_at=Q3,
        reason="x",
        seller=EXAMPLE_SELLER,
    )
    assert storno.vat_country == "FR"
    home = build_invoice(
        BilledOrder("o-10", placed=replace(placed, vat_country=None), confirmed_at=Q3),
        invoice_id="i-10",
        number="RE-2026-000010",
        seller=EXAMPLE_SELLER,
        issued_at=Q3,
    )
    assert home.vat_country is None
    assert not any("§3c" in n for n in home.notes)
