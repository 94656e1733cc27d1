"""The DATEV EXTF Buchungsstapel: header fields, columns, encoding, amounts, and the
export of a period over the in-memory unit of work, read back by a TEST PARSER written
here independently of the writer (it knows only the published layout: ``;``, quotes,
decimal comma, Windows-1252, header line, column line, one line per booking) and summed
per account."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from kontor_billing.application.datev import DatevPolicy, export_datev, exported_periods
from kontor_billing.application.invoicing import (
    BillingPolicy,
    cancel_invoice,
    on_order_confirmed,
    on_order_placed,
    on_return_completed,
)
from kontor_billing.domain.datev import (
    CHARTS,
    STORED_PARTY,
    Header,
    IncomingDocument,
    OutgoingDocument,
    PeriodSources,
    ReceivedPayment,
    VatPart,
    accounts_of,
    bookings_of,
    extf_file,
    party_account,
    period,
    stored_party,
)
from kontor_billing.domain.payouts import PayoutItem
from kontor_billing.store.memory import InMemoryBillingUnitOfWork
from kontor_contracts.events.orders import (
    OrderConfirmed,
    OrderPlaced,
    ReturnCompleted,
    ShippedLine,
)
from kontor_contracts.samples import order_placed_envelope
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.domain_errors import Conflict, Invalid, NotFound
from kontor_servicekit.fakes import FakeTransactor
from kontor_servicekit.privacy.keys import UNKEYED_PSEUDONYMS

pytestmark = pytest.mark.unit

JUNE = period(date(2026, 6, 1), date(2026, 6, 30))
CREATED = datetime(2026, 7, 1, 10, 15, 30, 123456, tzinfo=UTC)


# ------------------------------------------------------------------ the test parser


@dataclass
class Parsed:
    header: list[str]
    columns: list[str]
    rows: list[dict[str, str]]

    def amount(self, row: dict[str, str]) -> Decimal:
        return Decimal(row["Umsatz (ohne Soll/Haben-Kz)"].replace(",", "."))

    def balances(self) -> dict[str, Decimal]:
        """Per account: debits minus credits (a booking moves its amount from
        Gegenkonto to Konto when S, the other way when H)."""
        out: dict[str, Decimal] = defaultdict(Decimal)
        for row in self.rows:
            signed = self.amount(row) * (1 if row["Soll/Haben-Kennzeichen"] == "S" else -1)
            out[row["Konto"]] += signed
            out[row["Gegenkonto (ohne BU-Schlüssel)"]] -= signed
        return dict(out)


def parse_extf(data: bytes) -> Parsed:
    text = data.decode("cp1252")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=";", quotechar='"'))
    header, columns, *rows = lines
    for row in rows:
        assert len(row) == len(columns), row
    return Parsed(header, columns, [dict(zip(columns, row, strict=True)) for row in rows])


# ------------------------------------------------------------------ the writer


def doc(number: str, *parts: tuple[str, str, str, str], **changes: Any) -> OutgoingDocument:
    return replace(
        OutgoingDocument(
            number=number,
            kind="invoice",
            issue_date=date(2026, 6, 3),
            buyer_name="Anna Muster",
            buyer_country="DE",
            buyer_vat_id=None,
            parts=[VatPart(Decimal(r), c, Decimal(n), Decimal(v)) for r, c, n, v in parts],
        ),
        **changes,
    )


def header(**changes: Any) -> Header:
    return replace(
        Header(
            created_at=CREATED,
            advisor=29098,
            client=55003,
            chart="SKR03",
            period=JUNE,
            description="Kontor Juni",
        ),
        **changes,
    )


def test_the_header_line_names_format_700_category_21_version_13_and_the_period() -> None:
    parsed = parse_extf(extf_file(header(), []))
    h = parsed.header
    assert len(h) == 31
    assert h[:5] == ["EXTF", "700", "21", "Buchungsstapel", "13"]
    assert h[5] == "20260701121530123"  # Berlin time, milliseconds
    assert (h[10], h[11]) == ("29098", "55003")  # Beraternummer, Mandantennummer
    assert (h[12], h[13], h[14], h[15]) == ("20260101", "4", "20260601", "20260630")
    assert h[16] == "Kontor Juni"
    assert (h[18], h[20], h[21]) == ("1", "0", "EUR")  # Finanzbuchführung, not fixed
    assert h[26] == "03"  # SKR03
    assert parse_extf(extf_file(header(chart="SKR04", locked=True), [])).header[26] == "04"
    assert parse_extf(extf_file(header(locked=True), [])).header[20] == "1"


def test_the_column_line_has_the_125_columns_in_their_places() -> None:
    columns = parse_extf(extf_file(header(), [])).columns
    assert len(columns) == 125
    assert columns[:11] == [
        "Umsatz (ohne Soll/Haben-Kz)",
        "Soll/Haben-Kennzeichen",
        "WKZ Umsatz",
        "Kurs",
        "Basis-Umsatz",
        "WKZ Basis-Umsatz",
        "Konto",
        "Gegenkonto (ohne BU-Schlüssel)",
        "BU-Schlüssel",
        "Belegdatum",
        "Belegfeld 1",
    ]
    assert columns[13] == "Buchungstext"
    assert columns[39] == "EU-Mitgliedstaat u. UStID (Bestimmung)"
    assert columns[40] == "EU-Steuersatz (Bestimmung)"
    assert columns[102] == "Buchungs GUID"
    assert columns[114] == "Leistungsdatum"
    assert columns[124] == "Abw. Skontokonto"


def test_revenue_is_booked_gross_per_rate_and_category_on_the_charts_accounts() -> None:
    sources = PeriodSources(
        documents=[
            doc("RE-1", ("0.19", "S", "100.00", "19.00"), ("0.07", "S", "10.00", "0.70")),
            doc(
                "RE-2", ("0", "K", "500.00", "0.00"), buyer_vat_id="ATU12345678", buyer_country="AT"
            ),
            doc("RE-3", ("0.20", "S", "50.00", "10.00"), buyer_country="FR"),  # OSS
            doc(
                "KR-1", ("0.19", "S", "-10.00", "-1.90"), kind="correction", original_number="RE-1"
            ),
        ]
    )
    for chart, (standard, reduced, intra, oss, debtors) in {
        "SKR03": ("8400", "8300", "8125", "8320", "1400"),
        "SKR04": ("4400", "4300", "4125", "4320", "1200"),
    }.items():
        data = extf_file(header(chart=chart), bookings_of(sources, CHARTS[chart]))
        parsed = parse_extf(data)
        rows = {(r["Belegfeld 1"], r["Gegenkonto (ohne BU-Schlüssel)"]): r for r in parsed.rows}
        assert rows[("RE-1", standard)]["Umsatz (ohne Soll/Haben-Kz)"] == "119,00"
        assert rows[("RE-1", standard)]["Soll/Haben-Kennzeichen"] == "S"
        assert rows[("RE-1", reduced)]["Umsatz (ohne Soll/Haben-Kz)"] == "10,70"
        assert rows[("RE-2", intra)]["EU-Mitgliedstaat u. UStID (Bestimmung)"] == "ATU12345678"
        assert rows[("RE-3", oss)]["EU-Mitgliedstaat u. UStID (Bestimmung)"] == "FR"
        assert rows[("RE-3", oss)]["EU-Steuersatz (Bestimmung)"] == "20,00"
        correction = rows[("KR-1", standard)]
        assert (
            correction["Soll/Haben-Kennzeichen"],
            correction["Umsatz (ohne Soll/Haben-Kz)"],
        ) == (
            "H",
            "11,90",
        )
        assert correction["Belegfeld 2"] == "RE-1"
        assert {r["Konto"] for r in parsed.rows} == {debtors}
        assert {r["Belegdatum"] for r in parsed.rows} == {"0306"}
        balances = parsed.balances()
        assert balances[debtors] == Decimal("119.00") + Decimal("10.70") + Decimal(
            "500.00"
        ) + Decimal("60.00") - Decimal("11.90")
        assert balances[standard] == -Decimal("107.10")


def test_the_file_is_windows_1252_and_what_it_cannot_hold_becomes_a_question_mark() -> None:
    sources = PeriodSources(
        incoming=[
            IncomingDocument(
                id="ii-1",
                number="R-7",
                issue_date=date(2026, 6, 5),
                supplier_name='Müller & Söhne "Café" \u2013 Łódź',
                account=None,
                parts=[VatPart(Decimal("0.19"), "S", Decimal("100"), Decimal("19"))],
            )
        ]
    )
    data = extf_file(header(), bookings_of(sources, CHARTS["SKR03"]))
    assert "Müller".encode("cp1252") in data and b"\x96" in data  # the en dash
    [row] = parse_extf(data).rows
    assert row["Buchungstext"] == 'Eingangsrechnung Müller & Söhne "Café" \u2013 ?ód?'
    assert (row["Konto"], row["Gegenkonto (ohne BU-Schlüssel)"], row["BU-Schlüssel"]) == (
        "3200",
        "1600",
        "9",
    )


def test_bookings_outside_the_period_are_refused_and_a_period_stays_in_its_year() -> None:
    late = doc("RE-9", ("0.19", "S", "1.00", "0.19"), issue_date=date(2026, 7, 1))
    with pytest.raises(ValueError, match="outside the period"):
        extf_file(header(), bookings_of(PeriodSources(documents=[late]), CHARTS["SKR03"]))
    with pytest.raises(Invalid, match="fiscal year"):
        period(date(2026, 12, 1), date(2027, 1, 31))
    assert period(
        date(2026, 12, 1), date(2027, 1, 31), fiscal_year_start_month=7
    ).fiscal_year_start == date(2026, 7, 1)
    with pytest.raises(Invalid):
        accounts_of("SKR03", {"bank": "12"})
    assert accounts_of("SKR04", {"bank": "1810"}).bank == "1810"


def test_the_same_bookings_and_header_give_the_same_bytes() -> None:
    sources = PeriodSources(documents=[doc("RE-1", ("0.19", "S", "100.00", "19.00"))])
    first = extf_file(header(), bookings_of(sources, CHARTS["SKR03"]))
    again = extf_file(header(), bookings_of(sources, CHARTS["SKR03"]))
    assert first == again
    assert first != extf_file(
        header(created_at=CREATED + timedelta(seconds=1)), bookings_of(sources, CHARTS["SKR03"])
    )


# ------------------------------------------------------------------ a period exported


class Books:
    def __init__(self) -> None:
        self.transactor = FakeTransactor(InMemoryBillingUnitOfWork)
        self.clock = FakeClock(datetime(2026, 6, 3, 10, tzinfo=UTC))
        self.policy = BillingPolicy()
        self.datev = DatevPolicy(chart="SKR03", accounts=CHARTS["SKR03"], advisor=1001, client=1)

    async def invoice(self, order_id: str) -> None:
        event = order_placed_envelope(order_id).payload_model()
        assert isinstance(event, OrderPlaced)
        await self.transactor.deliver(
            partial(on_order_placed, clock=self.clock, policy=self.policy), event
        )
        await self.transactor.deliver(
            partial(on_order_confirmed, clock=self.clock, policy=self.policy),
            OrderConfirmed(order_id=order_id, confirmed_at=self.clock()),
        )

    def table(self, name: str) -> dict[str, Any]:
        return self.transactor.db.tables.setdefault(name, {})

    def documents(self) -> list[Any]:
        return sorted(self.transactor.db.rows("invoices"), key=lambda i: i.number)

    async def export(self, wanted: Any = JUNE) -> Any:
        return await export_datev(self.transactor, wanted, policy=self.datev, clock=self.clock)

    async def export_batch(self, batch: int, wanted: Any = JUNE) -> Any:
        return await export_datev(
            self.transactor, wanted, policy=self.datev, clock=self.clock, batch=batch
        )


async def a_month(books: Books) -> None:
    await books.invoice("o-1")
    await books.invoice("o-2")
    await books.invoice("o-3")
    await books.transactor.deliver(
        partial(on_return_completed, clock=books.clock, policy=books.policy),
        ReturnCompleted(
            return_id="r-1",
            order_id="o-1",
            refund_amount=Decimal("23.79"),
            currency="EUR",
            includes_shipping=False,
            lines=[ShippedLine(line_no=1, sku="TEE-RED-M", quantity=1)],
            completed_at=books.clock(),
        ),
    )
    await books.transactor.run(
        lambda uow: cancel_invoice(uow, "RE-2026-000002", "Doppelt", clock=books.clock)
    )
    books.table("received_payments")["p-1"] = ReceivedPayment(
        "p-1", date(2026, 6, 10), Decimal("67.58"), "bank_transfer", "RE-2026-000001", "RE 1"
    )
    books.table("received_payments")["p-3"] = ReceivedPayment(
        "p-3", date(2026, 6, 11), Decimal("67.58"), "card", "RE-2026-000003", "pi_3"
    )
    books.table("booked_incoming")["ii-1"] = IncomingDocument(
        "ii-1",
        "ER-2026-17",
        date(2026, 6, 4),
        "Stoff AG",
        None,
        [
            VatPart(Decimal("0.19"), "S", Decimal("1000.00"), Decimal("190.00")),
            VatPart(Decimal("0.07"), "S", Decimal("100.00"), Decimal("7.00")),
        ],
    )
    books.table("payout_items")["supplier:ii-1"] = PayoutItem(
        id="supplier:ii-1",
        number="AZ-2026-000002",
        kind="supplier",
        route="sepa",
        source_id="ii-1",
        source_number="ER-2026-17",
        amount=Decimal("1273.06"),
        discount=Decimal("23.94"),
        currency="EUR",
        created_at=books.clock(),
        status="sent",
        sent_at=datetime(2026, 6, 12, 8, tzinfo=UTC),
        creditor_name="Stoff AG",
        remittance="Rechnung ER-2026-17",
        iban="DE02500105170137075030",
    )
    books.table("payout_items")["refund:KR-2026-000001"] = PayoutItem(
        id="refund:KR-2026-000001",
        number="AZ-2026-000001",
        kind="refund",
        route="sepa",
        source_id="KR-2026-000001",
        source_number="KR-2026-000001",
        amount=Decimal("23.79"),
        currency="EUR",
        created_at=books.clock(),
        status="settled",
        sent_at=datetime(2026, 6, 12, 8, tzinfo=UTC),
        creditor_name="Anna Muster",
        remittance="Erstattung",
        iban="DE02120300000000202051",
        order_id="o-1",
    )


async def test_a_months_bookings_read_back_sum_to_the_documents_per_account() -> None:
    books = Books()
    await a_month(books)
    export = await books.export()
    parsed = parse_extf(export.file)
    balances = parsed.balances()
    docs = books.documents()
    assert sorted(d.kind for d in docs) == ["cancellation", "correction", *["invoice"] * 3]
    gross = sum((d.gross_total for d in docs), Decimal("0"))  # negatives for the credits
    a = CHARTS["SKR03"]
    # debtors: every document, less the payments, plus the refund paid out
    assert balances[a.debtors] == gross - Decimal("135.16") + Decimal("23.79")
    # revenue per rate: minus the gross of the documents' rows of that rate
    for rate, account in (
        (Decimal("0.19"), a.revenue_standard),
        (Decimal("0.07"), a.revenue_reduced),
    ):
        assert balances[account] == -sum(
            (r.gross for d in docs for r in d.vat_breakdown if r.vat_rate == rate), Decimal("0")
        )
    assert balances[a.bank] == Decimal("67.58") - Decimal("1273.06") - Decimal("23.79")
    assert balances[a.provider_clearing] == Decimal("67.58")  # the card payment
    assert balances[a.expense] == Decimal("1297.00")
    assert balances[a.creditors] == -Decimal("1297.00") + Decimal("1273.06") + Decimal("23.94")
    assert balances[a.skonto_received] == -Decimal("23.94")
    assert sum(balances.values()) == 0
    numbers = {r["Belegfeld 1"] for r in parsed.rows}
    assert {d.number for d in docs} <= numbers and "ER-2026-17" in numbers
    bu = {
        (r["Belegfeld 1"], r["Umsatz (ohne Soll/Haben-Kz)"]): r["BU-Schlüssel"] for r in parsed.rows
    }
    assert bu[("ER-2026-17", "1190,00")] == "9" and bu[("ER-2026-17", "107,00")] == "8"
    guids = [r["Buchungs GUID"] for r in parsed.rows]
    assert len(set(guids)) == len(guids)


def late_supplier_invoice(books: Books) -> None:
    """A supplier invoice dated in June, approved weeks after June was exported."""
    books.table("booked_incoming")["ii-2"] = IncomingDocument(
        "ii-2",
        "ER-99",
        date(2026, 6, 29),
        "Spät GmbH",
        None,
        [VatPart(Decimal("0.19"), "S", Decimal("10.00"), Decimal("1.90"))],
    )


async def test_a_period_exported_twice_is_the_same_file_and_later_documents_are_reported() -> None:
    books = Books()
    await a_month(books)
    first = await books.export()
    assert first.first and first.late == []
    books.clock.set(datetime(2026, 7, 20, 9, tzinfo=UTC))  # weeks later
    late_supplier_invoice(books)
    again = await books.export()
    assert again.file == first.file  # byte-identical, the first export's time in it
    assert not again.first
    assert [(d.kind, d.number) for d in again.late] == [("incoming_invoice", "ii-2")]
    [listed] = await exported_periods(books.transactor, policy=books.datev)
    assert listed.record.period == JUNE and listed.record.created_at == datetime(
        2026, 6, 3, 10, tzinfo=UTC
    )
    assert [d.number for d in listed.late] == ["ii-2"]
    with pytest.raises(Conflict, match="overlaps"):
        await books.export(period(date(2026, 6, 15), date(2026, 7, 15)))
    july = await books.export(period(date(2026, 7, 1), date(2026, 7, 31)))
    assert parse_extf(july.file).rows == []


# ------------------------------------------------------------------ the published format

#: The header of DATEV's own example of a Buchungsstapel (developer.datev.de, "Header" and
#: "Einstieg" of the DATEV-Format, header version 700, Buchungsstapel version 13).
DATEV_EXAMPLE_HEADER = (
    '"EXTF";700;21;"Buchungsstapel";13;20240130140440439;;"RE";"";"";29098;55003;20240101;4;'
    '20240101;20240831;"Buchungsstapel";"WD";1;0;0;"EUR";;"";;;"03";;;"";""'
)
#: Expressions the format description gives per field (header #1-#5; booking #1-#3, #7, #8).
HEADER_EXPRESSIONS = {
    0: r'^"(EXTF|DTVF)"$',
    1: r"^(700)$",
    2: r"^(16|20|21|46|48|65)$",
    3: r'^"Buchungsstapel"$',
    4: r"^(2|4|5|13)$",
    5: r"^\d{17}$",
}
BOOKING_EXPRESSIONS = {
    "Umsatz (ohne Soll/Haben-Kz)": r"^\d{1,10}[,]\d{2}$",
    "Soll/Haben-Kennzeichen": r'^["](S|H)["]$',
    "WKZ Umsatz": r'^["]([A-Z]{3})["]$',
    "Konto": r"^(\d{1,9})$",
    "Gegenkonto (ohne BU-Schlüssel)": r"^(\d{1,9})$",
}


def _kind(raw: str) -> str:
    return "empty" if raw == "" else "text" if raw.startswith('"') else "number"


async def test_the_file_follows_the_published_format_field_by_field() -> None:
    """Read raw (not through the csv module): the header has the example's 31 fields, each
    quoted where DATEV's example quotes it and a bare number where it has one; every
    booking line has as many fields as the column line (125) and its amounts, flags,
    currency and accounts match the format description's expressions."""
    books = Books()
    await a_month(books)
    lines = (await books.export()).file.decode("cp1252").split("\r\n")
    assert lines[-1] == ""  # every line ends with CRLF
    ours, example = lines[0].split(";"), DATEV_EXAMPLE_HEADER.split(";")
    assert len(ours) == len(example) == 31
    for n, (mine, theirs) in enumerate(zip(ours, example, strict=True)):
        if "empty" not in (_kind(mine), _kind(theirs)):  # both filled: quoted alike
            assert _kind(mine) == _kind(theirs), (n, mine, theirs)
    for n, expression in HEADER_EXPRESSIONS.items():
        assert re.match(expression, ours[n]), (n, ours[n])
    columns = lines[1].split(";")
    assert len(columns) == 125
    bookings = [line for line in lines[2:] if line]
    assert len(bookings) >= 10
    at = {name: columns.index(name) for name in BOOKING_EXPRESSIONS}
    for line in bookings:
        fields = line.split(";")  # no booking text here holds a ";"
        assert len(fields) == len(columns)
        for name, expression in BOOKING_EXPRESSIONS.items():
            assert re.match(expression, fields[at[name]]), (name, fields[at[name]])


async def test_late_documents_go_into_a_follow_up_batch_once() -> None:
    books = Books()
    await a_month(books)
    first = await books.export()
    with pytest.raises(Conflict, match="nothing was issued"):
        await books.export_batch(2)
    books.clock.set(datetime(2026, 7, 20, 9, tzinfo=UTC))
    late_supplier_invoice(books)
    with pytest.raises(NotFound):
        await books.export_batch(3)  # the next batch is 2
    second = await books.export_batch(2)
    assert second.first and second.record.batch == 2
    assert second.record.file_name == "EXTF_Buchungsstapel_20260601_20260630_2.csv"
    parsed = parse_extf(second.file)
    assert [(r["Belegfeld 1"], r["Umsatz (ohne Soll/Haben-Kz)"]) for r in parsed.rows] == [
        ("ER-99", "11,90")
    ]
    assert parsed.header[14:17] == ["20260601", "20260630", "Nachtrag 2 01.06.26-30.06.26"]
    assert parsed.header[5].startswith("20260720")  # made now, the first batch kept its time
    assert not set(parse_extf(first.file).rows[0]) - set(parsed.rows[0])  # same columns
    # nothing is late any more; both batches answer their bytes again
    again = await books.export()
    assert again.file == first.file and again.late == []
    assert (await books.export_batch(2)).file == second.file
    with pytest.raises(Conflict, match="after batch 2"):
        await books.export_batch(3)
    listed = await exported_periods(books.transactor, policy=books.datev)
    assert [(p.record.batch, p.late) for p in listed] == [(2, []), (1, [])]


async def test_debtors_and_creditors_on_personal_accounts_as_an_option() -> None:
    collective = Books()
    await a_month(collective)
    by_collective = parse_extf((await collective.export()).file).balances()
    books = Books()
    books.datev = replace(books.datev, personal_accounts=True)
    await a_month(books)
    ii = books.table("booked_incoming")["ii-1"]
    books.table("booked_incoming")["ii-1"] = replace(ii, party="creditor:de136695976")
    parsed = parse_extf((await books.export()).file)
    balances = parsed.balances()
    a = CHARTS["SKR03"]
    # every booking of the one customer (anna@example.de) on debtor 10000, of the
    # supplier on creditor 70000; nothing left on the collective accounts
    assert a.debtors not in balances and a.creditors not in balances
    assert balances["10000"] == by_collective[a.debtors]
    assert balances["70000"] == by_collective[a.creditors]
    assert sum(balances.values()) == 0
    # kept under pseudonymous keys (ADR 0115): the customer's subject id, the supplier's
    # keyed pseudonym; neither the e-mail nor the VAT id
    anna = UNKEYED_PSEUDONYMS.subject_id("anna@example.de")
    supplier = UNKEYED_PSEUDONYMS.subject_id("creditor:de136695976").removeprefix("subj_")
    assert books.transactor.db.tables["datev_party_accounts"] == {
        f"debtor:{anna}": (f"debtor:{anna}", "10000"),
        f"creditor:ps_{supplier}": (f"creditor:ps_{supplier}", "70000"),
    }
    assert "anna@example.de" not in str(books.transactor.db.tables["datev_party_accounts"])
    # a later period: the same customer keeps the account, a new one gets the next
    books.clock.set(datetime(2026, 7, 2, 9, tzinfo=UTC))
    await books.invoice("o-4")
    [doc] = [d for d in books.documents() if d.number == "RE-2026-000004"]
    buyer = replace(doc.buyer, email="Bernd@Example.de")
    books.table("invoices")[doc.id] = replace(doc, buyer=buyer)
    await books.invoice("o-5")
    july = parse_extf((await books.export(period(date(2026, 7, 1), date(2026, 7, 31)))).file)
    assert sorted({r["Konto"] for r in july.rows}) == ["10000", "10001"]
    assert party_account("debtor", 60000) == "69999"


async def test_an_account_keyed_by_the_e_mail_keeps_its_number_under_the_pseudonym() -> None:
    """A row from before ADR 0115 (``debtor:<e-mail>``) is not given a second account:
    the export finds it by the e-mail, moves it to the subject id and books on it."""
    books = Books()
    books.datev = replace(books.datev, personal_accounts=True)
    books.transactor.db.sequences["datev_debtor"] = 7
    books.table("datev_party_accounts")["debtor:anna@example.de"] = (
        "debtor:anna@example.de",
        "10007",
    )
    await a_month(books)
    parsed = parse_extf((await books.export()).file)
    assert "10007" in parsed.balances() and "10008" not in parsed.balances()
    anna = UNKEYED_PSEUDONYMS.subject_id("anna@example.de")
    rows = books.transactor.db.tables["datev_party_accounts"]
    assert rows[f"debtor:{anna}"] == (f"debtor:{anna}", "10007")
    assert "debtor:anna@example.de" not in rows


def test_a_party_is_kept_under_its_pseudonym_in_any_spelling() -> None:
    key = stored_party("debtor:anna@example.de", UNKEYED_PSEUDONYMS.subject_id)
    assert key == stored_party("debtor:Anna@Example.DE ", UNKEYED_PSEUDONYMS.subject_id)
    assert STORED_PARTY.match(key) and "anna" not in key
    assert stored_party(key, UNKEYED_PSEUDONYMS.subject_id) == key  # already pseudonymous
    creditor = stored_party("creditor:anna muster handwerk", UNKEYED_PSEUDONYMS.subject_id)
    assert STORED_PARTY.match(creditor) and creditor.startswith("creditor:ps_")
    with pytest.raises(Invalid, match="no personal creditor account left"):
        party_account("creditor", 30001)
