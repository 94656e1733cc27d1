"""The DATEV export: bookings of a period as an EXTF "Buchungsstapel" (ADR 0032).

Pure: no framework, broker or database. Written by hand (no kept library writes EXTF):
format ``EXTF`` version 700, category 21 "Buchungsstapel", format version 13, the
31-field header line, the line of column names and 125 columns per booking; fields
``;``-separated, text in double quotes (a quote doubled), amounts positive with a
decimal comma and the debit/credit flag (``S``/``H``, of ``Konto``) beside them,
``Belegdatum`` as ``TTMM`` (the year is the header's), lines ending CRLF, the whole
file Windows-1252 (characters it lacks become ``?``).

What is booked (gross, on automatic revenue accounts, so DATEV splits the VAT):

- outgoing documents per VAT row: an invoice debits the debtor (``S``) against the
  revenue account of its rate and category; a correction or cancellation credits it
  (``H``). Standard rate, reduced rate, intra-EU (category K, the buyer's VAT id in
  "EU-Land u. UStID"), export (Z), small business (E), and other EU rates (OSS: the
  buyer's country and rate in columns 40/41);
- payments received: bank (or the provider's clearing account for card/wallet) debited
  against the debtor, Belegfeld 1 the invoice number the payment settles (DATEV's OPOS);
- incoming invoices: the expense account debited against the creditor, per VAT rate
  with the input-VAT key (BU 9 for 19 %, 8 for 7 %);
- payouts: a refund debits the debtor against bank/clearing; a supplier payment debits
  the creditor against bank, and the Skonto taken debits the creditor against the
  Skonto account.

Each booking carries a "Buchungs GUID" derived from its source (uuid5), so the same
booking is recognisable in DATEV whatever file it came in.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from kontor_servicekit.clock import BERLIN
from kontor_servicekit.domain_errors import FieldProblem, Invalid

from kontor_billing.domain.invoice import Invoice
from kontor_billing.domain.payouts import PayoutItem

Chart = Literal["SKR03", "SKR04"]
Side = Literal["S", "H"]

FORMAT_VERSION = 700
CATEGORY = 21
CATEGORY_NAME = "Buchungsstapel"
CATEGORY_VERSION = 13
ENCODING = "cp1252"
GUID_NAMESPACE = uuid.UUID("6f1c5a62-2a4e-4c1e-9d7a-0b1e4d1f5a21")
STANDARD_RATE = Decimal("19")
REDUCED_RATE = Decimal("7")
INPUT_VAT_KEYS = {STANDARD_RATE: "9", REDUCED_RATE: "8"}
PROVIDER_METHODS = frozenset({"card", "wallet"})

COLUMNS: tuple[str, ...] = (
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
    "Belegfeld 2",
    "Skonto",
    "Buchungstext",
    "Postensperre",
    "Diverse Adressnummer",
    "Geschäftspartnerbank",
    "Sachverhalt",
    "Zinssperre",
    "Beleglink",
    *(f"Beleginfo - {part} {n}" for n in range(1, 9) for part in ("Art", "Inhalt")),
    "KOST1 - Kostenstelle",
    "KOST2 - Kostenstelle",
    "Kost-Menge",
    "EU-Mitgliedstaat u. UStID (Bestimmung)",
    "EU-Steuersatz (Bestimmung)",
    "Abw. Versteuerungsart",
    "Sachverhalt L+L",
    "Funktionsergänzung L+L",
    "BU 49 Hauptfunktionstyp",
    "BU 49 Hauptfunktionsnummer",
    "BU 49 Funktionsergänzung",
    *(f"Zusatzinformation - {part} {n}" for n in range(1, 21) for part in ("Art", "Inhalt")),
    "Stück",
    "Gewicht",
    "Zahlweise",
    "Forderungsart",
    "Veranlagungsjahr",
    "Zugeordnete Fälligkeit",
    "Skontotyp",
    "Auftragsnummer",
    "Buchungstyp",
    "USt-Schlüssel (Anzahlungen)",
    "EU-Mitgliedstaat (Anzahlungen)",
    "Sachverhalt L+L (Anzahlungen)",
    "EU-Steuersatz (Anzahlungen)",
    "Erlöskonto (Anzahlungen)",
    "Herkunft-Kz",
    "Buchungs GUID",
    "KOST-Datum",
    "SEPA-Mandatsreferenz",
    "Skontosperre",
    "Gesellschaftername",
    "Beteiligtennummer",
    "Identifikationsnummer",
    "Zeichnernummer",
    "Postensperre bis",
    "Bezeichnung SoBil-Sachverhalt",
    "Kennzeichen SoBil-Buchung",
    "Festschreibung",
    "Leistungsdatum",
    "Datum Zuord. Steuerperiode",
    "Fälligkeit",
    "Generalumkehr (GU)",
    "Steuersatz",
    "Land",
    "Abrechnungsreferenz",
    "BVV-Position",
    "EU-Mitgliedstaat u. UStID (Ursprung)",
    "EU-Steuersatz (Ursprung)",
    "Abw. Skontokonto",
)
COLUMN = {name: n for n, name in enumerate(COLUMNS)}
EU_COUNTRIES = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class Accounts:
    """The accounts a chart books on (4 digits; the collective debtor and creditor
    accounts unless personal accounts are kept in DATEV)."""

    revenue_standard: str
    revenue_reduced: str
    revenue_intra_eu: str
    revenue_export: str
    revenue_small_business: str
    revenue_oss: str
    bank: str
    provider_clearing: str
    debtors: str
    creditors: str
    expense: str
    skonto_received: str


CHARTS: dict[Chart, Accounts] = {
    "SKR03": Accounts(
        revenue_standard="8400",
        revenue_reduced="8300",
        revenue_intra_eu="8125",
        revenue_export="8120",
        revenue_small_business="8195",
        revenue_oss="8320",
        bank="1200",
        provider_clearing="1360",
        debtors="1400",
        creditors="1600",
        expense="3200",
        skonto_received="3736",
    ),
    "SKR04": Accounts(
        revenue_standard="4400",
        revenue_reduced="4300",
        revenue_intra_eu="4125",
        revenue_export="4120",
        revenue_small_business="4185",
        revenue_oss="4320",
        bank="1800",
        provider_clearing="1460",
        debtors="1200",
        creditors="3300",
        expense="5200",
        skonto_received="5736",
    ),
}


def accounts_of(chart: Chart, overrides: dict[str, str] | None = None) -> Accounts:
    """The chart's defaults with the merchant's own accounts where given."""
    accounts = CHARTS[chart]
    if not overrides:
        return accounts
    unknown = sorted(set(overrides) - set(Accounts.__dataclass_fields__))
    bad = [k for k, v in overrides.items() if not (v.isdigit() and 4 <= len(v) <= 8)]
    if unknown or bad:
        raise Invalid(
            "unknown DATEV account names or accounts that are not 4-8 digits",
            problems=[FieldProblem(("datev_accounts", k), "unknown") for k in unknown]
            + [FieldProblem(("datev_accounts", k), "4 to 8 digits") for k in bad],
        )
    return replace(accounts, **overrides)


# ------------------------------------------------------------------ what is booked


@dataclass(frozen=True)
class VatPart:
    rate: Decimal
    category: str
    net: Decimal
    vat: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat


@dataclass(frozen=True)
class OutgoingDocument:
    number: str
    kind: str
    issue_date: date
    buyer_name: str
    buyer_country: str
    buyer_vat_id: str | None
    parts: list[VatPart]
    order_number: str | None = None
    original_number: str | None = None
    supply_date: date | None = None
    party: str | None = None
    """The debtor (``debtor:<buyer e-mail>``) for personal accounts."""


@dataclass(frozen=True)
class ReceivedPayment:
    id: str
    received_on: date
    amount: Decimal
    method: str
    invoice_number: str | None
    reference: str | None = None
    party: str | None = None


@dataclass(frozen=True)
class IncomingDocument:
    id: str
    number: str
    issue_date: date
    supplier_name: str
    account: str | None
    parts: list[VatPart]
    """Gross per VAT rate (one part with rate 0 when the rates are not known)."""
    due_date: date | None = None
    party: str | None = None
    """The creditor (``creditor:<VAT id or name>``) for personal accounts."""


@dataclass(frozen=True)
class PayoutBooking:
    number: str
    kind: str
    route: str
    booked_on: date
    amount: Decimal
    discount: Decimal
    source_number: str
    creditor_name: str
    party: str | None = None


@dataclass(frozen=True)
class Booking:
    key: str
    """Its source (``doc:RE-2026-000001:19:S``...): the GUID and the late-document check."""
    amount: Decimal
    side: Side
    account: str
    contra: str
    on: date
    document: str
    text: str
    document2: str = ""
    bu_key: str = ""
    eu_country_vat_id: str = ""
    eu_rate: Decimal | None = None
    supply_date: date | None = None
    due_date: date | None = None
    party: str | None = None
    """The debtor or creditor behind ``account``/``contra`` (personal accounts)."""

    @property
    def guid(self) -> str:
        return str(uuid.uuid5(GUID_NAMESPACE, self.key))


def percent(rate: Decimal) -> Decimal:
    """A VAT rate in percent: documents keep fractions (0.19), people and DATEV say 19."""
    return (rate * 100 if rate < 1 else rate).normalize()


def _text(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)[:60]


def revenue_account(part: VatPart, country: str, accounts: Accounts) -> tuple[str, str, str]:
    """(account, EU country or VAT id column, OSS flag) of a VAT row."""
    if part.category == "K":
        return accounts.revenue_intra_eu, "", ""
    if part.category == "E":
        return accounts.revenue_small_business, "", ""
    if part.category in ("Z", "G", "O") or part.rate == 0:
        return accounts.revenue_export, "", ""
    rate = percent(part.rate)
    if rate == STANDARD_RATE and country in ("DE", ""):
        return accounts.revenue_standard, "", ""
    if rate == REDUCED_RATE and country in ("DE", ""):
        return accounts.revenue_reduced, "", ""
    if country in EU_COUNTRIES and country != "DE":
        return accounts.revenue_oss, country, "oss"  # another member state's VAT (OSS)
    return (
        accounts.revenue_standard if rate >= STANDARD_RATE else accounts.revenue_reduced,
        "",
        "",
    )


def document_bookings(doc: OutgoingDocument, accounts: Accounts) -> list[Booking]:
    out = []
    for part in doc.parts:
        if part.gross == 0:
            continue
        account, eu, oss = revenue_account(part, doc.buyer_country, accounts)
        eu_column = (doc.buyer_vat_id or "") if part.category == "K" else eu
        out.append(
            Booking(
                key=f"doc:{doc.number}:{percent(part.rate):f}:{part.category}",
                amount=abs(part.gross),
                side="S" if part.gross > 0 else "H",
                account=accounts.debtors,
                contra=account,
                on=doc.issue_date,
                document=doc.number,
                document2=doc.original_number or doc.order_number or "",
                text=_text(
                    {
                        "invoice": "Rechnung",
                        "cancellation": "Storno",
                        "correction": "Korrektur",
                    }.get(doc.kind, doc.kind),
                    doc.buyer_name,
                    f"{percent(part.rate):f}%" if part.rate else None,
                ),
                eu_country_vat_id=eu_column,
                eu_rate=percent(part.rate) if oss else None,
                supply_date=doc.supply_date,
                party=doc.party,
            )
        )
    return out


def payment_bookings(p: ReceivedPayment, accounts: Accounts) -> list[Booking]:
    money = accounts.provider_clearing if p.method in PROVIDER_METHODS else accounts.bank
    return [
        Booking(
            key=f"pay:{p.id}",
            amount=p.amount,
            side="S",
            account=money,
            contra=accounts.debtors,
            on=p.received_on,
            document=p.invoice_number or p.id,
            document2=(p.reference or "")[:12],
            text=_text("Zahlung", p.method, p.reference),
            party=p.party,
        )
    ]


def incoming_bookings(doc: IncomingDocument, accounts: Accounts) -> list[Booking]:
    out = []
    for part in doc.parts:
        if part.gross == 0:
            continue
        out.append(
            Booking(
                key=f"in:{doc.id}:{percent(part.rate):f}",
                amount=abs(part.gross),
                side="S" if part.gross > 0 else "H",
                account=doc.account or accounts.expense,
                contra=accounts.creditors,
                bu_key=INPUT_VAT_KEYS.get(percent(part.rate), ""),
                on=doc.issue_date,
                document=doc.number,
                text=_text("Eingangsrechnung", doc.supplier_name),
                due_date=doc.due_date,
                party=doc.party,
            )
        )
    return out


def payout_bookings(p: PayoutBooking, accounts: Accounts) -> list[Booking]:
    money = accounts.provider_clearing if p.route == "provider" else accounts.bank
    party = accounts.debtors if p.kind == "refund" else accounts.creditors
    out = [
        Booking(
            key=f"out:{p.number}",
            amount=p.amount,
            side="S",
            account=party,
            contra=money,
            on=p.booked_on,
            document=p.source_number,
            document2=p.number,
            text=_text("Erstattung" if p.kind == "refund" else "Zahlung", p.creditor_name),
            party=p.party,
        )
    ]
    if p.discount:
        out.append(
            Booking(
                key=f"out:{p.number}:skonto",
                amount=p.discount,
                side="S",
                account=party,
                contra=accounts.skonto_received,
                on=p.booked_on,
                document=p.source_number,
                document2=p.number,
                text=_text("Skonto", p.creditor_name),
                party=p.party,
            )
        )
    return out


@dataclass(frozen=True)
class PeriodSources:
    documents: list[OutgoingDocument] = field(default_factory=list)
    payments: list[ReceivedPayment] = field(default_factory=list)
    incoming: list[IncomingDocument] = field(default_factory=list)
    payouts: list[PayoutBooking] = field(default_factory=list)


PartyAccounts = Mapping[str, str]
"""Party (``debtor:…``, ``creditor:…``) -> its personal account (ADR 0074)."""

DEBTOR_ACCOUNTS = (10000, 69999)
CREDITOR_ACCOUNTS = (70000, 99999)


def party_account(kind: str, ordinal: int) -> str:
    """The ``ordinal``-th (from 1) personal account of debtors or creditors: DATEV's
    ranges with 4-digit G/L accounts (debtors 10000-69999, creditors 70000-99999)."""
    first, last = DEBTOR_ACCOUNTS if kind == "debtor" else CREDITOR_ACCOUNTS
    account = first - 1 + ordinal
    if not first <= account <= last:
        raise Invalid(f"no personal {kind} account left (DATEV range {first}-{last})")
    return str(account)


def parties_of(sources: PeriodSources) -> list[str]:
    """Every debtor and creditor the period's bookings name, sorted."""
    found = {
        s.party
        for group in (sources.documents, sources.payments, sources.incoming, sources.payouts)
        for s in group
        if s.party
    }
    return sorted(found)


def _personal(booking: Booking, accounts: Accounts, parties: PartyAccounts) -> Booking:
    """The collective debtor/creditor account of ``booking`` replaced by its party's."""
    own = parties.get(booking.party or "")
    if own is None:
        return booking
    collective = {accounts.debtors, accounts.creditors}
    return replace(
        booking,
        account=own if booking.account in collective else booking.account,
        contra=own if booking.contra in collective else booking.contra,
    )


def bookings_of(
    sources: PeriodSources, accounts: Accounts, parties: PartyAccounts | None = None
) -> list[Booking]:
    """Every booking of the period, in a fixed order (date, then source key); with
    ``parties`` on the debtors' and creditors' personal accounts instead of the
    collective ones (ADR 0074)."""
    found: list[Booking] = []
    for doc in sources.documents:
        found += document_bookings(doc, accounts)
    for payment in sources.payments:
        found += payment_bookings(payment, accounts)
    for incoming in sources.incoming:
        found += incoming_bookings(incoming, accounts)
    for payout in sources.payouts:
        found += payout_bookings(payout, accounts)
    if parties is not None:
        found = [_personal(b, accounts, parties) for b in found]
    return sorted(found, key=lambda b: (b.on, b.key))


def source_keys(bookings: Iterable[Booking]) -> list[str]:
    """The documents behind the bookings (``doc:RE-...``, ``pay:...``): a later export
    finds what was issued for the period after it was exported."""
    return sorted({":".join(b.key.split(":")[:2]) for b in bookings})


# ------------------------------------------------------------------ the period


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    fiscal_year_start: date

    @property
    def key(self) -> str:
        return f"{self.start.isoformat()}_{self.end.isoformat()}"

    def overlaps(self, other: Period) -> bool:
        return self.start <= other.end and other.start <= self.end


def period(start: date, end: date, *, fiscal_year_start_month: int = 1) -> Period:
    """A period DATEV takes in one Buchungsstapel: within one fiscal year."""
    if end < start:
        raise Invalid("the period ends before it starts", field=["to"], location="query")
    year = start.year if start.month >= fiscal_year_start_month else start.year - 1
    fy_start = date(year, fiscal_year_start_month, 1)
    fy_end = date(year + 1, fiscal_year_start_month, 1)
    if end >= fy_end:
        raise Invalid(
            f"a DATEV batch lies in one fiscal year (from {fy_start.isoformat()})",
            field=["to"],
            location="query",
        )
    return Period(start, end, fy_start)


# ------------------------------------------------------------------ the file


@dataclass(frozen=True)
class Header:
    created_at: datetime
    advisor: int
    client: int
    chart: Chart
    period: Period
    description: str
    exported_by: str = "Kontor"
    origin: str = "KO"
    account_length: int = 4
    currency: str = "EUR"
    locked: bool = False


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def amount_text(value: Decimal) -> str:
    """``1234,50``: two decimals, a decimal comma, no thousands separator."""
    return f"{value.quantize(Decimal('0.01')):f}".replace(".", ",")


def header_line(h: Header) -> str:
    created = h.created_at.astimezone(BERLIN)
    fields: list[str] = [
        _quoted("EXTF"),
        str(FORMAT_VERSION),
        str(CATEGORY),
        _quoted(CATEGORY_NAME),
        str(CATEGORY_VERSION),
        created.strftime("%Y%m%d%H%M%S") + f"{created.microsecond // 1000:03d}",
        "",
        _quoted(h.origin),
        _quoted(h.exported_by),
        _quoted(""),
        str(h.advisor),
        str(h.client),
        h.period.fiscal_year_start.strftime("%Y%m%d"),
        str(h.account_length),
        h.period.start.strftime("%Y%m%d"),
        h.period.end.strftime("%Y%m%d"),
        _quoted(h.description[:30]),
        _quoted(""),
        "1",
        "0",
        "1" if h.locked else "0",
        _quoted(h.currency),
        "",
        _quoted(""),
        "",
        "",
        _quoted(h.chart[-2:]),
        "",
        "",
        _quoted(""),
        _quoted(""),
    ]
    return ";".join(fields)


def booking_line(b: Booking) -> str:
    cells = [""] * len(COLUMNS)

    def put(column: str, value: str) -> None:
        cells[COLUMN[column]] = value

    put("Umsatz (ohne Soll/Haben-Kz)", amount_text(b.amount))
    put("Soll/Haben-Kennzeichen", _quoted(b.side))
    put("WKZ Umsatz", _quoted("EUR"))
    put("Konto", b.account)
    put("Gegenkonto (ohne BU-Schlüssel)", b.contra)
    put("BU-Schlüssel", _quoted(b.bu_key))
    put("Belegdatum", b.on.strftime("%d%m"))
    put("Belegfeld 1", _quoted(b.document[:36]))
    put("Belegfeld 2", _quoted(b.document2[:12]))
    put("Buchungstext", _quoted(b.text))
    put("EU-Mitgliedstaat u. UStID (Bestimmung)", _quoted(b.eu_country_vat_id))
    if b.eu_rate is not None:
        put("EU-Steuersatz (Bestimmung)", amount_text(b.eu_rate))
    put("Buchungs GUID", _quoted(b.guid))
    if b.supply_date is not None:
        put("Leistungsdatum", b.supply_date.strftime("%d%m%Y"))
    if b.due_date is not None:
        put("Fälligkeit", b.due_date.strftime("%d%m%Y"))
    return ";".join(cells)


def extf_file(header: Header, bookings: list[Booking]) -> bytes:
    """The Buchungsstapel: header line, column names, one line per booking; the same
    header and bookings give the same bytes."""
    outside = [b for b in bookings if not header.period.start <= b.on <= header.period.end]
    if outside:
        raise ValueError(f"bookings outside the period: {[b.key for b in outside]}")
    lines = [header_line(header), ";".join(COLUMNS), *(booking_line(b) for b in bookings)]
    return ("\r\n".join(lines) + "\r\n").encode(ENCODING, errors="replace")


def file_name(header: Header, batch: int = 1) -> str:
    p = header.period
    follow_up = f"_{batch}" if batch > 1 else ""
    return f"EXTF_Buchungsstapel_{p.start:%Y%m%d}_{p.end:%Y%m%d}{follow_up}.csv"


def batch_description(p: Period, batch: int) -> str:
    """The header's "Bezeichnung" (at most 30 characters)."""
    if batch == 1:
        return f"Kontor {p.start:%d.%m.%Y}-{p.end:%d.%m.%Y}"
    return f"Nachtrag {batch} {p.start:%d.%m.%y}-{p.end:%d.%m.%y}"


# ------------------------------------------------------------------ from billing's own


def debtor_of(email: str | None) -> str | None:
    return f"debtor:{email.strip().lower()}" if email else None


def creditor_of(vat_id: str | None, name: str | None) -> str | None:
    key = (vat_id or "").replace(" ", "").upper() or (name or "").strip().lower()
    return f"creditor:{key}" if key else None


#: How ``datev_party_accounts`` keys a party (ADR 0115): never the e-mail, VAT id or name.
STORED_PARTY = re.compile(r"^(debtor:subj_|creditor:ps_)[0-9a-f]{32}$")


def stored_party(party: str, pseudonym: Callable[[str], str]) -> str:
    """The key a party's personal account is kept under (ADR 0115): a debtor by the
    person's subject id (``debtor:subj_<hex>``, the keyed pseudonym of the e-mail, as
    ``erased_subjects``), a creditor by the keyed pseudonym of its VAT id or name
    (``creditor:ps_<hex>``, a sole trader's name is personal too). ``pseudonym`` is the
    service's subject-id function (HMAC under the privacy master key)."""
    if STORED_PARTY.match(party):
        return party
    kind, _, key = party.partition(":")
    if kind == "debtor":
        return f"debtor:{pseudonym(key)}"
    return f"creditor:ps_{pseudonym(f'creditor:{key}').removeprefix('subj_')}"


def outgoing_of(invoice: Invoice) -> OutgoingDocument:
    return OutgoingDocument(
        number=invoice.number,
        kind=invoice.kind,
        issue_date=invoice.issue_date,
        buyer_name=invoice.buyer.company or invoice.buyer.name,
        buyer_country=invoice.buyer.country,
        buyer_vat_id=invoice.buyer_vat_id,
        parts=[VatPart(r.vat_rate, r.category, r.net, r.vat) for r in invoice.vat_breakdown],
        order_number=invoice.order_number,
        original_number=invoice.original_number,
        supply_date=invoice.supply_date,
        party=debtor_of(invoice.buyer.email),
    )


def payout_booking_of(item: PayoutItem, party: str | None = None) -> PayoutBooking | None:
    """A payout is booked on the day it left: sent in a run (the file went to the bank)
    or settled by the provider; a failed or waiting one is not booked."""
    at = item.sent_at or item.settled_at
    if item.status not in ("sent", "settled") or at is None:
        return None
    return PayoutBooking(
        number=item.number,
        kind=item.kind,
        route=item.route,
        booked_on=at.astimezone(BERLIN).date(),
        amount=item.amount,
        discount=item.discount,
        source_number=item.source_number,
        creditor_name=item.creditor_name,
        party=party,
    )
