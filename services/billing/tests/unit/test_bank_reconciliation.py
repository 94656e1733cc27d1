"""Matching incoming credits to open receivables (``domain/reconciliation.py``): numbers
as people type them, amount and payer, partial and collective payments, and what must
wait for a person, with ranked suggestions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from kontor_billing.domain.bank_statements import StatementLine
from kontor_billing.domain.reconciliation import (
    OpenItem,
    decide,
    names_match,
    references_in,
    refers_to,
    suggestions,
)

pytestmark = pytest.mark.unit


def item(
    number: str = "RE-2026-000012",
    open_amount: str = "57.98",
    *,
    order_number: str | None = "B-2026-000034",
    name: str = "Anna Muster",
    email: str = "anna@example.de",
    status: str = "open",
    currency: str = "EUR",
) -> OpenItem:
    return OpenItem(
        invoice_number=number,
        order_id=f"o-{number}",
        order_number=order_number,
        customer_name=name,
        customer_email=email,
        currency=currency,
        open_amount=Decimal(open_amount),
        status=status,
    )


def credit(
    amount: str, text: str = "", *, payer: str | None = "Anna Muster", **changes: object
) -> StatementLine:
    fields: dict[str, object] = {
        "direction": "credit",
        "amount": Decimal(amount),
        "currency": "EUR",
        "booking_date": date(2026, 12, 1),
        "value_date": date(2026, 12, 1),
        "counterparty_name": payer,
        "counterparty_iban": "DE02120300000000202051",
        "remittance": text,
        **changes,
    }
    return StatementLine(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "RE-2026-000012",
        "RE 2026 000012",
        "re2026000012",
        "Rechnung Nr. 2026-000012",
        "2026000012",
        "Rechnung RE/2026/000012 vielen Dank",
        "RE-2026-12",
        "Re.-Nr.: RE 2026-0000 12",
    ],
)
def test_an_invoice_number_as_people_type_it(text: str) -> None:
    assert [r.key for r in references_in(text)] == ["2026000012"]
    assert [refers_to(r, item()) for r in references_in(text)] == ["invoice"]


@pytest.mark.parametrize("text", ["B-2026-000034", "b 2026 000034", "Bestellung 2026-000034"])
def test_an_order_number_as_people_type_it(text: str) -> None:
    assert [refers_to(r, item()) for r in references_in(text)] == ["order"]


@pytest.mark.parametrize(
    "text",
    [
        "Mitgliedsbeitrag 2027",
        "Kd-Nr. 4711 vom 01.12.2026",
        "2026 12",  # a year and a short number without a prefix say nothing
        "RE 2026 0001 02",  # a cut text is not RE-2026-000001
    ],
)
def test_text_without_a_number_of_ours(text: str) -> None:
    assert all(refers_to(r, item("RE-2026-000001")) is None for r in references_in(text))
    assert all(refers_to(r, item()) is None for r in references_in(text))


def test_several_numbers_in_order_once_each() -> None:
    found = references_in("RE-2026-000201, re 2026 000202 und nochmals RE2026000201")
    assert [r.key for r in found] == ["2026000201", "2026000202"]


def test_the_prefix_chooses_between_an_invoice_and_an_order_with_the_same_digits() -> None:
    invoice_12 = item("RE-2026-000012", order_number="B-2026-000099")
    order_12 = item("RE-2026-000500", order_number="B-2026-000012")
    [with_b] = references_in("B-2026-000012")
    assert refers_to(with_b, order_12) == "order"
    assert refers_to(with_b, invoice_12) == "invoice"  # digits alone still fit
    [with_re] = references_in("RE2026000012")
    assert refers_to(with_re, invoice_12) == "invoice"


@pytest.mark.parametrize(
    ("payer", "buyer", "same"),
    [
        ("ANNA MUSTER", "Anna Muster", True),
        ("Muster, Anna", "Anna Muster", True),
        ("Dr. Anna Muster", "Anna Muster", True),
        ("Anna und Max Muster", "Anna Muster", True),
        ("JUERGEN MUELLER", "Jürgen Müller", True),
        ("Jürgen Müller", "Jürgen Müller", True),
        ("Anna Beispiel", "Anna Muster", False),
        ("Muster", "Anna Muster", False),
        (None, "Anna Muster", False),
    ],
)
def test_payer_names_as_banks_write_them(payer: str | None, buyer: str, same: bool) -> None:
    assert names_match(payer, buyer) is same


def test_a_number_in_the_text_pays_that_invoice() -> None:
    decision = decide(credit("57.98", "RE 2026 000012"), [item(), item("RE-2026-000013")])
    assert [(a.invoice_number, a.amount) for a in decision.allocations] == [
        ("RE-2026-000012", Decimal("57.98"))
    ]
    assert decision.allocations[0].customer_email == "anna@example.de"


def test_a_partial_payment_by_number_pays_what_came() -> None:
    decision = decide(credit("20.00", "Anzahlung 2026-000034", payer="Bernd"), [item()])
    assert [(a.invoice_number, a.amount) for a in decision.allocations] == [
        ("RE-2026-000012", Decimal("20.00"))
    ]


def test_an_over_payment_by_number_is_booked_whole_the_ledger_keeps_the_credit() -> None:
    decision = decide(credit("60.00", "RE-2026-000012"), [item()])
    assert [a.amount for a in decision.allocations] == [Decimal("60.00")]


def test_one_transfer_paying_several_invoices_that_add_up() -> None:
    items = [item("RE-2026-000201", "60.50"), item("RE-2026-000202", "40.00")]
    decision = decide(credit("100.50", "RE-2026-000201, RE-2026-000202"), items)
    assert [(a.invoice_number, a.amount) for a in decision.allocations] == [
        ("RE-2026-000201", Decimal("60.50")),
        ("RE-2026-000202", Decimal("40.00")),
    ]


def test_several_invoices_that_do_not_add_up_wait_for_a_person() -> None:
    items = [item("RE-2026-000201", "60.50"), item("RE-2026-000202", "40.00")]
    decision = decide(credit("90.00", "RE-2026-000201 RE-2026-000202"), items)
    assert decision.allocations == ()
    assert "100.50 open together" in (decision.reason or "")
    assert {s.invoice_number for s in decision.suggestions} == {"RE-2026-000201", "RE-2026-000202"}


def test_no_number_exact_amount_and_the_buyers_name() -> None:
    items = [item("RE-2026-000012", "29.90", name="Clara Kundin"), item("RE-2026-000013", "29.90")]
    decision = decide(credit("29.90", "Danke", payer="CLARA KUNDIN"), items)
    assert [a.invoice_number for a in decision.allocations] == ["RE-2026-000012"]


def test_no_number_exact_amount_and_an_iban_that_paid_this_customer_before() -> None:
    items = [item("RE-2026-000012", "29.90", name="Clara Kundin", email="clara@example.de")]
    line = credit("29.90", "Danke", payer="Kundin Familienkonto")
    assert decide(line, items).allocations == ()
    decision = decide(line, items, frozenset({"clara@example.de"}))
    assert [a.invoice_number for a in decision.allocations] == ["RE-2026-000012"]


def test_the_amount_alone_is_not_enough() -> None:
    decision = decide(
        credit("29.90", "Danke", payer="Dieter Unbekannt"), [item(open_amount="29.90")]
    )
    assert decision.allocations == ()
    assert decision.reason == "1 open item(s) of this amount, none of this payer"
    [suggested] = decision.suggestions
    assert suggested.score == Decimal("0.3")
    assert suggested.reasons == ("amount equals the open amount",)


def test_two_open_items_of_the_amount_from_the_same_payer_wait() -> None:
    items = [item("RE-2026-000012", "29.90"), item("RE-2026-000013", "29.90")]
    decision = decide(credit("29.90", "Danke"), items)
    assert decision.allocations == ()
    assert decision.reason == "2 open items of this amount from this payer"


def test_a_number_that_fits_two_items_is_settled_by_the_payer_or_waits() -> None:
    anna = item("RE-2026-000012", "57.98", order_number="B-2026-000099")
    bernd = item(
        "RE-2026-000500",
        "20.00",
        order_number="B-2026-000012",
        name="Bernd Beispiel",
        email="bernd@example.de",
    )
    by_anna = decide(credit("57.98", "2026-000012", payer="Anna Muster"), [anna, bernd])
    assert [a.invoice_number for a in by_anna.allocations] == ["RE-2026-000012"]
    by_stranger = decide(credit("57.98", "2026-000012", payer="Jemand"), [anna, bernd])
    assert by_stranger.allocations == ()
    assert "fits several invoices" in (by_stranger.reason or "")


def test_a_paid_or_cancelled_invoice_is_not_paid_again() -> None:
    paid = item(open_amount="0", status="paid")
    decision = decide(credit("57.98", "RE-2026-000012"), [paid])
    assert decision.allocations == ()
    assert decision.reason == "nothing is open on the invoices named: RE-2026-000012 (paid)"
    assert decision.suggestions[0].reasons == (
        "invoice number in the text",
        "nothing open (paid)",
        "payer's name is the buyer's",
    )
    cancelled = item(status="cancelled")
    assert decide(credit("57.98", "RE-2026-000012"), [cancelled]).allocations == ()


def test_an_invoice_in_another_currency_is_never_paid_automatically() -> None:
    decision = decide(credit("57.98", "RE-2026-000012"), [item(currency="CHF")])
    assert decision.allocations == ()
    assert decision.reason == "the invoices named are not in EUR"


def test_a_debit_pays_no_invoice() -> None:
    line = StatementLine(
        "debit", Decimal("57.98"), "EUR", date(2026, 12, 1), None, remittance="RE-2026-000012"
    )
    assert decide(line, [item()]).allocations == ()


def test_suggestions_are_ranked_with_their_reasons() -> None:
    items = [
        item("RE-2026-000012", "80.00"),  # named, more open: a partial payment?
        item("RE-2026-000013", "49.25", name="Dieter Unbekannt", email="d@example.de"),
        item("RE-2026-000014", "49.25", name="Someone Else", email="s@example.de"),
        item("RE-2026-000015", "10.00", name="Nobody", email="n@example.de"),
    ]
    line = credit("49.25", "Beitrag", payer="Dieter Unbekannt")
    ranked = suggestions(line, items, frozenset())
    assert [(s.invoice_number, s.score) for s in ranked] == [
        ("RE-2026-000013", Decimal("0.5")),
        ("RE-2026-000014", Decimal("0.3")),
        ("RE-2026-000012", Decimal("0.1")),
    ]
    assert ranked[0].reasons == ("amount equals the open amount", "payer's name is the buyer's")
    named = suggestions(credit("40.00", "RE-2026-000012"), items)
    assert named[0].invoice_number == "RE-2026-000012"
    assert named[0].score == Decimal("0.8")
    assert named[0].reasons == (
        "invoice number in the text",
        "less than the open 80.00 (a partial payment?)",
        "payer's name is the buyer's",
    )
