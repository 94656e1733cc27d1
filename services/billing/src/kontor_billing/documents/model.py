"""What an invoice document says, independent of how it is stored or rendered.

Pure frozen data: :mod:`kontor_billing.documents.cii` turns it into EN 16931 CII XML,
:mod:`kontor_billing.documents.pdf` into a PDF. Amounts are Decimal in the document's
currency with two places; quantities are Decimal. Signs follow EN 16931: an invoice
(380) and a cancellation (381, a credit note) carry positive amounts, the type code says
in which direction the money goes; a correction (384) carries the signed difference to
the original, a refund as negative quantities at positive unit prices (see ADR 0022).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Literal

CENT = Decimal("0.01")

#: EN 16931 specification identifiers (BT-24).
EN16931 = "urn:cen.eu:en16931:2017"
XRECHNUNG = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"


class DocumentKind(StrEnum):
    """UNTDID 1001 document type codes (BT-3)."""

    INVOICE = "380"
    CORRECTION = "384"
    CANCELLATION = "381"
    QUOTE = "310"  # offer / quotation: a PDF only, never an e-invoice (no CII XML)


class VatCategory(StrEnum):
    """UNTDID 5305 VAT category codes (BT-151) billing uses."""

    STANDARD = "S"
    ZERO = "Z"
    EXEMPT = "E"
    INTRA_COMMUNITY = "K"
    REVERSE_CHARGE = "AE"


#: The exemption reason code (BT-121) and the German note each non-taxed category needs.
EXEMPTION: dict[VatCategory, tuple[str, str, str]] = {
    VatCategory.INTRA_COMMUNITY: (
        "VATEX-EU-IC",
        "Steuerfreie innergemeinschaftliche Lieferung (§4 Nr. 1b, §6a UStG)",
        "VAT-exempt intra-community supply (§4 no. 1b, §6a UStG)",
    ),
    VatCategory.REVERSE_CHARGE: (
        "VATEX-EU-AE",
        "Steuerschuldnerschaft des Leistungsempfängers (§13b UStG)",
        "Reverse charge: the recipient is liable for VAT (§13b UStG)",
    ),
    VatCategory.EXEMPT: (
        "VATEX-EU-132",
        "Steuerfreie Leistung",
        "VAT-exempt supply",
    ),
}


@dataclass(frozen=True)
class Seller:
    name: str
    street: str
    postcode: str
    city: str
    country: str
    email: str
    legal_form: str | None = None
    vat_id: str | None = None
    tax_number: str | None = None
    registry: str | None = None
    managing_directors: tuple[str, ...] = ()
    iban: str | None = None
    bic: str | None = None
    phone: str | None = None
    contact_name: str | None = None
    sample: bool = False

    @property
    def legal_name(self) -> str:
        if self.legal_form and not self.name.endswith(self.legal_form):
            return f"{self.name} {self.legal_form}"
        return self.name


@dataclass(frozen=True)
class Buyer:
    name: str
    street: str
    postcode: str
    city: str
    country: str
    email: str
    company: str | None = None
    vat_id: str | None = None
    buyer_reference: str | None = None
    language: Literal["de", "en"] = "de"

    @property
    def display_name(self) -> str:
        return self.company or self.name


@dataclass(frozen=True)
class Line:
    line_no: int
    description: str
    quantity: Decimal
    unit_net: Decimal
    line_net: Decimal
    category: VatCategory
    rate: Decimal
    sku: str | None = None
    unit_code: str = "H87"  # UN/ECE rec. 20: piece


@dataclass(frozen=True)
class Allowance:
    """A document-level allowance (BG-20), e.g. a coupon agreed before the sale."""

    amount: Decimal
    reason: str
    category: VatCategory
    rate: Decimal
    reason_code: str = "95"  # UNTDID 5189: discount


@dataclass(frozen=True)
class VatRow:
    category: VatCategory
    rate: Decimal
    basis: Decimal
    vat: Decimal


@dataclass(frozen=True)
class Note:
    text: str
    subject: str | None = None  # UNTDID 4451, e.g. AAK (exemption), REG (regulatory)
    text_en: str | None = None  # the note on an English PDF (the XML keeps ``text``)

    def in_language(self, lang: str) -> str:
        return self.text_en if lang == "en" and self.text_en else self.text


@dataclass(frozen=True)
class DocumentData:
    kind: DocumentKind
    number: str
    issue_date: date
    supply_date: date | None
    currency: str
    seller: Seller
    buyer: Buyer
    lines: tuple[Line, ...]
    allowances: tuple[Allowance, ...] = ()
    notes: tuple[Note, ...] = ()
    original_number: str | None = None  # BT-25: the invoice a correction/cancellation refers to
    original_date: date | None = None  # BT-26
    order_number: str | None = None
    due_date: date | None = None
    payment_terms: str | None = None
    vat_rows: tuple[VatRow, ...] = field(default=())

    @property
    def xrechnung(self) -> bool:
        return self.buyer.buyer_reference is not None

    @property
    def line_total(self) -> Decimal:
        return sum((line.line_net for line in self.lines), Decimal("0"))

    @property
    def allowance_total(self) -> Decimal:
        return sum((a.amount for a in self.allowances), Decimal("0"))

    @property
    def breakdown(self) -> tuple[VatRow, ...]:
        """The VAT breakdown (BG-23): given rows, else per category and rate from the lines."""
        return self.vat_rows or vat_breakdown(self.lines, self.allowances)

    @property
    def net_total(self) -> Decimal:
        return self.line_total - self.allowance_total

    @property
    def vat_total(self) -> Decimal:
        return sum((row.vat for row in self.breakdown), Decimal("0"))

    @property
    def gross_total(self) -> Decimal:
        return self.net_total + self.vat_total


def vat_breakdown(
    lines: tuple[Line, ...], allowances: tuple[Allowance, ...] = ()
) -> tuple[VatRow, ...]:
    """Net per category and rate minus its allowances; VAT = basis x rate, rounded half up
    to the cent once per rate (EN 16931 BR-CO-17)."""
    basis: dict[tuple[VatCategory, Decimal], Decimal] = {}
    for line in lines:
        key = (line.category, line.rate.normalize())
        basis[key] = basis.get(key, Decimal("0")) + line.line_net
    for allowance in allowances:
        key = (allowance.category, allowance.rate.normalize())
        basis[key] = basis.get(key, Decimal("0")) - allowance.amount
    return tuple(
        VatRow(category=cat, rate=rate, basis=amount, vat=vat_of(amount, rate))
        for (cat, rate), amount in sorted(basis.items(), key=lambda kv: (-kv[0][1], kv[0][0]))
    )


def vat_of(basis: Decimal, rate: Decimal) -> Decimal:
    return (basis * rate / Decimal(100)).quantize(CENT, rounding=ROUND_HALF_UP)
