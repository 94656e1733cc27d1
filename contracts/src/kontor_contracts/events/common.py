"""Types and sub-models shared by the events of several services."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from ..bounds import MAX_STOCK
from ..envelope import ContractModel
from ..personal import NotPersonal, Personal

__all__ = [
    "Address",
    "CountryCode",
    "Customer",
    "Email",
    "Id",
    "Quantity",
    "Sku",
    "SkuQuantity",
    "VatClass",
]

Id = Annotated[str, StringConstraints(min_length=1, max_length=128)]
"""An identifier issued by the owning service (opaque to everyone else)."""

Sku = Annotated[str, StringConstraints(min_length=1, max_length=64)]
"""The merchant's stock keeping unit (Artikelnummer)."""


def _within_stock_bound(pieces: int) -> int:
    if pieces > MAX_STOCK:
        raise ValueError(f"at most {MAX_STOCK:,} pieces (ADR 0014)")
    return pieces


Quantity = Annotated[int, Field(gt=0), AfterValidator(_within_stock_bound)]
"""A number of pieces; always positive (direction is given by the event, not the sign).

At most MAX_STOCK (ADR 0014); the v1 schemas do not state that bound, as adding a
constraint to a published schema counts as breaking (ADR 0002)."""

CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
"""ISO 3166-1 alpha-2, e.g. 'DE', 'AT'."""

Email = Annotated[
    str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$", min_length=3, max_length=254)
]
"""An e-mail address (syntax check only; deliverability is the sender's problem)."""

VatClass = Literal["standard", "reduced", "zero"]
"""German VAT class: standard (19 %), reduced (7 %, e.g. books, food) or zero (0 %)."""


_AREA = (
    "without street and name an area of thousands of people; tax (place of supply, OSS), "
    "shipping zones and regional figures need it after an erasure too"
)


class Address(ContractModel):
    """A postal address, as printed on an invoice or a shipping label."""

    name: Annotated[str, Personal("name")] = Field(min_length=1, description="Recipient's name")
    company: Annotated[str | None, Personal("company")] = None
    street: Annotated[str, Personal("street")] = Field(
        min_length=1, description="Street and house number"
    )
    postcode: Annotated[str, NotPersonal(_AREA)] = Field(min_length=1)
    city: Annotated[str, NotPersonal(_AREA)] = Field(min_length=1)
    country: CountryCode
    address_line2: Annotated[str | None, Personal("address")] = Field(
        default=None, description="c/o, floor, Packstation no."
    )


class Customer(ContractModel):
    """Who bought (or wrote to us). ``customer_id`` is None for guest checkouts."""

    customer_id: Id | None = None
    email: Annotated[Email, Personal("email")]
    name: Annotated[str, Personal("name")] = Field(min_length=1)
    phone: Annotated[str | None, Personal("phone")] = None


class SkuQuantity(ContractModel):
    """A quantity of one article."""

    sku: Sku
    quantity: Quantity
