"""Bank statement files as German banks send them, read by the kept parsers (pycamt,
mt-940): CAMT.053 .02 (Commerzbank layout, PRCD opening balance) and .08 (Sparkasse
layout, a batch entry, ``Pty/Nm``), MT940 with ``?20``-``?32`` sub-fields; detection by
content; the identity of a booking across imports (ADR 0030)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from kontor_billing.bankfiles import detect, parse_statement
from kontor_billing.bankfiles.mt940 import account_iban
from kontor_billing.domain.bank_statements import booking_ids
from kontor_servicekit.domain_errors import Invalid

pytestmark = pytest.mark.unit

DATA = Path(__file__).resolve().parents[1] / "data" / "bank"
CAMT02 = (DATA / "camt053_v02_commerzbank.xml").read_bytes()
CAMT08 = (DATA / "camt053_v08_sparkasse.xml").read_bytes()
MT940 = (DATA / "mt940_sparkasse.sta").read_bytes()


def test_camt_053_001_02_statement_balances_and_bookings() -> None:
    [s] = parse_statement(CAMT02)
    assert (s.format, s.account_iban, s.currency) == (
        "camt.053.001.02",
        "DE89370400440532013000",
        "EUR",
    )
    assert (s.statement_id, s.sequence_number) == ("0532013000-2026-12-01-233", "233")
    # German banks send the opening balance as PRCD (previous closing booked)
    assert s.opening is not None and s.closing is not None
    assert (s.opening.amount, s.opening.on) == (Decimal("1250.00"), date(2026, 11, 30))
    assert (s.closing.amount, s.closing.on) == (Decimal("1377.13"), date(2026, 12, 1))
    assert [(x.direction, x.amount) for x in s.lines] == [
        ("credit", Decimal("57.98")),
        ("credit", Decimal("20.00")),
        ("credit", Decimal("29.90")),
        ("credit", Decimal("49.25")),
        ("debit", Decimal("30.00")),
    ]
    assert s.opening.amount + sum(x.signed_amount for x in s.lines) == s.closing.amount
    first = s.lines[0]
    assert first.counterparty_name == "Anna Muster"
    assert first.counterparty_iban == "DE02120300000000202051"
    assert first.remittance == "Rechnung re 2026 000101 vielen Dank"
    assert first.end_to_end_id is None  # NOTPROVIDED is no reference
    assert first.bank_reference == "2026120105000111"
    assert first.booking_date == first.value_date == date(2026, 12, 1)
    assert first.bank_code == "PMNT/RCDT/ESCT"
    debit = s.lines[4]  # the other side of a debit is the creditor
    assert (debit.counterparty_name, debit.end_to_end_id) == (
        "Erika Erstattung",
        "KONTOR-RF-000017",
    )


def test_camt_053_001_08_batch_entry_debit_balance_and_names_in_pty() -> None:
    [s] = parse_statement(CAMT08)
    assert (s.format, s.account_iban, s.sequence_number) == (
        "camt.053.001.08",
        "DE02300500000001234567",
        "12",
    )
    assert s.opening is not None and s.opening.amount == Decimal("-100.00")  # DBIT: overdrawn
    assert s.closing is not None and s.closing.amount == Decimal("250.50")
    # one Ntry of 150.50 carrying two TxDtls: two bookings with their own amounts
    assert [(x.amount, x.counterparty_name) for x in s.lines] == [
        (Decimal("100.50"), "Firma Kaufgut GmbH"),
        (Decimal("50.00"), "Greta Gast"),
    ]
    assert s.lines[0].remittance == "RE-2026-000201, RE-2026-000202 Kd-Nr. 4711"  # both Ustrd
    assert s.lines[0].end_to_end_id == "RG-SAMMEL-4711"
    assert s.lines[0].bank_reference is None


def test_mt940_german_subfields_and_account_as_iban() -> None:
    [s] = parse_statement(MT940)
    assert s.format == "mt940"
    assert s.account_iban == "DE89370400440532013000"  # :25: BLZ/Konto 37040044/0532013000
    assert s.statement_id == "STARTUMSE:00234/001"
    assert s.opening is not None and s.opening.amount == Decimal("1377.13")
    assert s.closing is not None and s.closing.amount == Decimal("1449.28")
    assert s.opening.amount + sum(x.signed_amount for x in s.lines) == s.closing.amount
    anna, hans, refund = s.lines
    # ?21 "SVWZ+Rechnung RE-2026-0001" and ?22 "01 Rest": one purpose, keyword dropped
    assert anna.remittance == "Rechnung RE-2026-000101 Rest"
    assert (anna.counterparty_name, anna.counterparty_iban) == (
        "Anna Muster",
        "DE02120300000000202051",
    )
    assert anna.bank_reference == "2026120205000201"
    assert anna.end_to_end_id is None  # EREF+NOTPROVIDED
    assert anna.booking_date == date(2026, 12, 2)
    assert hans.end_to_end_id == "B2026000301"
    assert (refund.direction, refund.amount, refund.end_to_end_id) == (
        "debit",
        Decimal("12.34"),
        "KONTOR-RF-000018",
    )
    assert refund.bank_code == "GVC 177"


def test_mt940_account_given_as_iban_or_unusable() -> None:
    assert account_iban("DE89 3704 0044 0532 0130 00") == "DE89370400440532013000"
    with pytest.raises(Invalid):
        account_iban("12345678/99999999999")


def test_the_format_is_told_by_content_not_by_name() -> None:
    assert detect(CAMT02) == detect(b"\xef\xbb\xbf\n" + CAMT08) == "camt"
    assert detect(MT940) == "mt940"
    assert detect(b"%PDF-1.7 ...") is None
    assert detect(b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:pain.001.001.09'/>") is None


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"", "empty"),
        (b"Datum;Betrag\n01.12.2026;10,00\n", "not a bank statement"),
        (CAMT02[:700], "not a readable CAMT.053"),
    ],
)
def test_what_is_no_statement_is_refused_on_the_file_field(raw: bytes, says: str) -> None:
    with pytest.raises(Invalid) as refused:
        parse_statement(raw)
    assert says in refused.value.message
    assert [p.loc for p in refused.value.problems] == [("file",)]


def test_entries_not_booked_yet_are_not_taken() -> None:
    pending = CAMT02.replace(b"<Sts>BOOK</Sts>", b"<Sts>PDNG</Sts>", 1)
    [s] = parse_statement(pending)
    assert s.skipped == 1
    assert [x.amount for x in s.lines] == [Decimal(a) for a in ("20.00", "29.90", "49.25", "30.00")]


def test_an_external_entity_is_not_resolved() -> None:
    hostile = CAMT02.replace(
        b"<Document ",
        b'<!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/hostname">]>\n<Document ',
        1,
    ).replace(b"vielen Dank</Ustrd>", b"vielen Dank &x;</Ustrd>", 1)
    try:
        [s] = parse_statement(hostile)
    except Invalid:
        return  # refused outright is as good
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else ""
    assert not hostname or hostname not in s.lines[0].remittance


def test_a_booking_has_the_same_id_in_every_statement_that_carries_it() -> None:
    [s] = parse_statement(CAMT02)
    ids = booking_ids(s.account_iban, s.lines)
    assert len(set(ids)) == len(ids) == 5
    # the next day's statement repeats the last two bookings (overlap) and adds one
    overlap = [*s.lines[3:], replace(s.lines[0], bank_reference="2026120205000999")]
    assert booking_ids(s.account_iban, overlap)[:2] == ids[3:]
    assert booking_ids(s.account_iban, overlap)[2] not in ids
    # another account's booking with the same bank reference is another booking
    assert booking_ids("DE02300500000001234567", s.lines[:1]) != ids[:1]


def test_without_a_bank_reference_the_fields_and_the_ordinal_identify_it() -> None:
    [s] = parse_statement(CAMT08)
    greta = s.lines[1]
    twice = [greta, greta]  # two identical transfers on one day: two bookings
    first, second = booking_ids(s.account_iban, twice)
    assert first != second
    assert booking_ids(s.account_iban, [greta]) == [first]
    assert booking_ids(s.account_iban, [replace(greta, remittance="RE2026000203 ")]) == [first]
    assert booking_ids(s.account_iban, [replace(greta, amount=Decimal("50.01"))]) != [first]
