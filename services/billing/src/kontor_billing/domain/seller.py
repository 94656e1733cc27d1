"""The seller: the merchant's own master data, printed on every document (§14 UStG).

Pure: the checks of IBAN, BIC and VAT id run where the data enters (the route); here
is what the documents need and which of it §14 Abs. 4 Nr. 1 and 2 UStG demands.
"""

from __future__ import annotations

from dataclasses import dataclass

SAMPLE_NOTE = "MUSTER: Beispieldaten des Verkäufers, keine gültige Rechnung."


@dataclass(frozen=True)
class Seller:
    name: str
    street: str
    postcode: str
    city: str
    country: str
    vat_id: str | None = None
    tax_number: str | None = None
    legal_form: str | None = None
    iban: str | None = None
    bic: str | None = None
    email: str | None = None
    registry: str | None = None
    managing_directors: tuple[str, ...] = ()
    phone: str | None = None
    logo: str | None = None
    """A data: URL or the id of a stored image; None: no logo on the letterhead."""
    sample: bool = False
    """Example data (``make run``): every document says it is a sample."""

    def missing(self) -> list[str]:
        """The §14 Abs. 4 minimum this seller lacks: full name and address, and the
        tax number or the VAT id. Empty: documents may be issued."""
        gaps = [
            name
            for name in ("name", "street", "postcode", "city", "country")
            if not (getattr(self, name) or "").strip()
        ]
        if not (self.vat_id or "").strip() and not (self.tax_number or "").strip():
            gaps.append("vat_id or tax_number")
        return gaps


EXAMPLE_SELLER = Seller(
    name="Musterhandel GmbH",
    legal_form="GmbH",
    street="Marktplatz 1",
    postcode="10117",
    city="Berlin",
    country="DE",
    vat_id="DE136695976",
    tax_number="30/123/45678",
    iban="DE89370400440532013000",
    bic="COBADEFFXXX",
    email="buchhaltung@musterhandel.de",
    registry="Amtsgericht Berlin-Charlottenburg HRB 12345",
    managing_directors=("Erika Mustermann",),
    phone="+49 30 1234567",
    sample=True,
)
"""What ``make run`` starts with until the merchant PUTs real data (marked sample)."""


def seller_missing_reason(seller: Seller | None) -> str | None:
    """Why no document can be issued with ``seller`` (None: it can)."""
    if seller is None:
        return "no seller master data (PUT /seller)"
    gaps = seller.missing()
    return f"seller master data lacks {', '.join(gaps)} (PUT /seller)" if gaps else None
