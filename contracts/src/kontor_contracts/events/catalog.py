"""Events owned by the catalog service: assortment, stock and reservations."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from ..envelope import ContractModel, Event
from ..money import Amount, Currency, VatRate
from ..personal import NotPersonal
from .common import CountryCode, Id, Quantity, Sku, VatClass

__all__ = [
    "ProductCreated",
    "ProductDiscontinued",
    "ProductPriceChanged",
    "ProductUpdated",
    "ReplacementStockBooked",
    "ReplacementStockRejected",
    "ReservationLine",
    "ReservationShortfall",
    "ShippingMethodChanged",
    "ShippingRate",
    "ShippingZone",
    "StockAdjusted",
    "StockReleased",
    "StockReservationRejected",
    "StockReserved",
]


_PRODUCT = "the product's text, the same for every customer"


# --- catalog.product.v1 (key: sku) -------------------------------------------------


class ProductCreated(Event):
    """A new article was added to the assortment."""

    event_type = "ProductCreated"

    sku: Sku
    name: Annotated[str, NotPersonal(_PRODUCT)] = Field(min_length=1)
    description: Annotated[str | None, NotPersonal(_PRODUCT)] = None
    price_net: Amount = Field(description="Net selling price per piece")
    price_gross: Amount = Field(description="Gross selling price per piece (net + VAT)")
    vat_class: VatClass
    vat_rate: VatRate
    currency: Currency
    stock: int = Field(ge=0, description="Pieces on hand at creation, all warehouses")
    gtin: str | None = Field(default=None, description="GTIN/EAN barcode")
    category: str | None = Field(default=None, description="The first of ``categories``")
    categories: list[str] | None = Field(
        default=None,
        description="Every category the product is in (their ids); None: not told (an event "
        "from before the field: only ``category`` is known)",
    )
    brand: str | None = None
    weight_grams: int | None = Field(default=None, ge=0)
    reorder_point: int | None = Field(
        default=None, ge=0, description="Meldebestand: reorder when stock falls to this"
    )
    parent_sku: Sku | None = Field(
        default=None, description="For a variant: the SKU of the product it is a variant of"
    )
    variant_attributes: dict[str, str] | None = Field(
        default=None, description='For a variant: what sets it apart, e.g. {"size": "M"}'
    )


class ProductUpdated(Event):
    """Descriptive data of an article changed (prices change via ProductPriceChanged).

    ``changed_fields`` names every field that changed; a listed field whose value
    is None was cleared, an unlisted field is unchanged.
    """

    event_type = "ProductUpdated"

    sku: Sku
    changed_fields: list[str] = Field(default_factory=list)
    name: Annotated[str | None, NotPersonal(_PRODUCT)] = None
    description: Annotated[str | None, NotPersonal(_PRODUCT)] = None
    gtin: str | None = None
    category: str | None = Field(default=None, description="The first of ``categories``")
    categories: list[str] | None = Field(
        default=None,
        description="When ``changed_fields`` names ``categories``: every category the product "
        "is in now (empty: none); None: not told",
    )
    brand: str | None = None
    weight_grams: int | None = Field(default=None, ge=0)
    reorder_point: int | None = Field(default=None, ge=0)


class ProductPriceChanged(Event):
    """The selling price (or the VAT class, which changes the gross price) changed."""

    event_type = "ProductPriceChanged"

    sku: Sku
    old_price_net: Amount
    new_price_net: Amount
    price_gross: Amount = Field(description="New gross price per piece")
    vat_class: VatClass
    vat_rate: VatRate
    currency: Currency
    effective_at: AwareDatetime
    old_price_gross: Amount | None = None


class ProductDiscontinued(Event):
    """The article is no longer sold (Auslistung); remaining stock may still ship."""

    event_type = "ProductDiscontinued"

    sku: Sku
    reason: str | None = None
    effective_at: AwareDatetime | None = None


# --- catalog.stock.v1 (key: sku) ---------------------------------------------------


class StockAdjusted(Event):
    """Stock on hand of an article in one warehouse changed."""

    event_type = "StockAdjusted"

    sku: Sku
    warehouse: Id
    delta: int = Field(description="Change in pieces; negative for outflow")
    on_hand: int = Field(ge=0, description="Pieces on hand in this warehouse afterwards")
    reason: Literal[
        "goods_receipt", "inventory_count", "return_restock", "write_off", "correction", "shipment"
    ]
    available: int | None = Field(
        default=None, description="On hand minus reserved, all warehouses, afterwards"
    )
    reference: Annotated[str | None, NotPersonal("a document or count id")] = Field(
        default=None, description="Delivery note, return id, shipment id or count id"
    )
    note: Annotated[
        str | None, NotPersonal("staff's note about goods; names no customer (docs/privacy.md)")
    ] = None


# --- catalog.reservation.v1 (key: order_id) ----------------------------------------


class ReservationLine(ContractModel):
    sku: Sku
    quantity: Quantity
    warehouse: Id


class ReservationShortfall(ContractModel):
    """Why one line of an order could not be reserved."""

    sku: Sku
    requested: Quantity
    available: int = Field(ge=0)


class StockReserved(Event):
    """All lines of an order are reserved; the order can be confirmed."""

    event_type = "StockReserved"

    order_id: Id
    lines: list[ReservationLine] = Field(min_length=1)
    expires_at: AwareDatetime | None = None


class StockReservationRejected(Event):
    """An order could not be reserved in full; nothing of it is reserved."""

    event_type = "StockReservationRejected"

    order_id: Id
    reasons: list[ReservationShortfall] = Field(min_length=1)


class StockReleased(Event):
    """A reservation was given back (order cancelled or rejected, reservation expired)."""

    event_type = "StockReleased"

    order_id: Id
    lines: list[ReservationLine] = Field(min_length=1)
    reason: str | None = Field(
        default=None, description="e.g. order_cancelled, order_rejected, expired"
    )


class ReplacementStockBooked(Event):
    """The piece(s) of a complaint's replacement were reserved and booked out of stock
    (the replacement ships; StockAdjusted with reason ``shipment`` and the complaint id
    as reference tells the movement)."""

    event_type = "ReplacementStockBooked"

    order_id: Id
    complaint_id: Id
    lines: list[ReservationLine] = Field(min_length=1)


class ReplacementStockRejected(Event):
    """A complaint's replacement could not be reserved: nothing was taken."""

    event_type = "ReplacementStockRejected"

    order_id: Id
    complaint_id: Id
    reasons: list[ReservationShortfall] = Field(min_length=1)


# --- catalog.shipping.v1 (key: method_id) ------------------------------------------


class ShippingZone(ContractModel):
    """Destination countries priced alike; a country is in at most one zone of a method."""

    zone_id: Id
    name: Annotated[str | None, NotPersonal("a shipping zone's name")] = None
    countries: list[CountryCode] = Field(min_length=1)


class ShippingRate(ContractModel):
    """One row of a zone's rate table.

    The rows of a zone are ascending by their bound; the first row whose bound is at
    least the order's weight (``basis`` weight, grams) or gross goods value (``basis``
    value) applies. A row without a bound applies to everything above the others.
    """

    zone_id: Id
    max_weight_grams: int | None = Field(default=None, ge=0)
    max_value: Amount | None = Field(default=None, description="Gross goods value")
    price_net: Amount


class ShippingMethodChanged(Event):
    """A shipping method was created, changed or withdrawn: its full state.

    The newest event per ``method_id`` is the truth (a snapshot, not a delta).
    Withdrawn methods stay with ``active`` false.
    """

    event_type = "ShippingMethodChanged"

    method_id: Id = Field(description="What an order names as its shipping method, e.g. standard")
    name: Annotated[str, NotPersonal("a shipping method's name")] = Field(min_length=1)
    carrier: str | None = Field(default=None, description="e.g. DHL, DPD, Hermes")
    basis: Literal["weight", "value"]
    zones: list[ShippingZone] = Field(min_length=1)
    rates: list[ShippingRate] = Field(min_length=1)
    free_from: Amount | None = Field(
        default=None, description="Gross goods value from which shipping is free"
    )
    currency: Currency
    vat_rate: VatRate = Field(
        description="VAT rate of the net prices (shipping follows the goods' VAT as an "
        "ancillary service; for baskets of mixed rates the orders service may split it)"
    )
    active: bool
