"""Events owned by the orders service: carts, orders, returns and complaints.

Amounts on order lines are *after* discounts (coupon discounts are allocated to
the lines), so ``sum(line_net) + shipping.net == net_total`` and the same for VAT
and gross. Billing can invoice an order from OrderPlaced alone.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AwareDatetime, Field

from ..envelope import ContractModel, Event
from ..money import Amount, Currency, VatRate
from ..personal import NotPersonal, Personal
from .common import Address, CountryCode, Customer, Email, Id, Quantity, Sku, SkuQuantity

__all__ = [
    "PREPAYMENT_NOT_RECEIVED",
    "CartAbandoned",
    "CartLine",
    "CartUpdated",
    "CheckoutStarted",
    "ComplaintFiled",
    "CustomerDataErased",
    "CustomerDataExported",
    "DataExportRequested",
    "ErasedItem",
    "ErasureRequested",
    "OrderCancelled",
    "OrderConfirmed",
    "OrderDelivered",
    "OrderLine",
    "OrderPlaced",
    "OrderRejected",
    "OrderShipped",
    "PrivacyAnswer",
    "PrivacyRequest",
    "ReceivedReturnLine",
    "ReplacementRequested",
    "ReturnCompleted",
    "ReturnLine",
    "ReturnReceived",
    "ReturnRequested",
    "ShippedLine",
    "ShippingCharge",
    "ShippingVatPart",
    "VatExemption",
    "WithdrawalReceived",
    "WithdrawnLine",
]


# --- orders.cart.v1 (key: cart_id) -------------------------------------------------


class CartLine(ContractModel):
    sku: Sku
    quantity: Quantity
    unit_price_gross: Amount
    name: Annotated[str | None, NotPersonal("the product's name")] = None


class CartUpdated(Event):
    """The content of a shopping cart changed (the full cart, not a delta)."""

    event_type = "CartUpdated"

    cart_id: Id
    customer_email: Annotated[Email | None, Personal("email")] = None
    lines: list[CartLine]
    currency: Currency
    value: Amount = Field(description="Gross value of the cart")


class CheckoutStarted(Event):
    """The customer went to checkout with this cart."""

    event_type = "CheckoutStarted"

    cart_id: Id
    customer_email: Annotated[Email | None, Personal("email")] = None
    lines: list[CartLine] = Field(default_factory=list)
    currency: Currency
    value: Amount = Field(description="Gross value of the cart")


class CartAbandoned(Event):
    """A cart saw no activity for the abandonment window and was not ordered."""

    event_type = "CartAbandoned"

    cart_id: Id
    value: Amount
    currency: Currency
    last_activity_at: AwareDatetime
    customer_email: Annotated[Email | None, Personal("email")] = Field(
        default=None, description="Only for a reminder if marketing holds consent"
    )
    lines: list[CartLine] = Field(default_factory=list)


# --- orders.order.v1 (key: order_id) -----------------------------------------------


class OrderLine(ContractModel):
    line_no: int = Field(ge=1)
    sku: Sku
    name: Annotated[str, NotPersonal("the product's name")] = Field(min_length=1)
    quantity: Quantity
    unit_price_net: Amount
    unit_price_gross: Amount
    vat_rate: VatRate
    line_net: Amount
    line_vat: Amount
    line_gross: Amount


class ShippingVatPart(ContractModel):
    """The part of the shipping charge taxed at one rate."""

    vat_rate: VatRate
    net: Amount
    vat: Amount
    gross: Amount


class ShippingCharge(ContractModel):
    method: str = Field(min_length=1, description="e.g. standard, express, pickup")
    net: Amount
    vat_rate: VatRate = Field(description="The rate of the largest part (see parts)")
    vat: Amount
    gross: Amount
    carrier: str | None = None
    parts: list[ShippingVatPart] | None = Field(
        default=None,
        description="Shipping follows the VAT of the goods: its net split over the goods' "
        "rates in proportion to their net, each part taxed at its rate; the parts add up "
        "to net, vat and gross. None (older events): all of it at vat_rate",
    )


class VatExemption(ContractModel):
    """Why the order carries no VAT, for its documents (EN 16931 BT-120/BT-121)."""

    category: Literal["K"] = Field(
        description="EN 16931 VAT category: K, intra-community supply of goods"
    )
    reason_code: str = Field(default="VATEX-EU-IC", description="CEF VATEX code (BT-121)")
    reason: str = Field(
        min_length=1,
        description="The note the documents carry (BT-120), e.g. "
        "'Steuerfreie innergemeinschaftliche Lieferung (§4 Nr. 1b, §6a UStG)'",
    )
    vies_confirmation: Literal["pending", "confirmed"] = Field(
        description="The buyer's VAT id passed format and check digits; whether VIES "
        "confirmed it (by a merchant, by hand) when the order was placed"
    )


class OrderPlaced(Event):
    """A customer placed an order (a binding offer; confirmed or rejected next)."""

    event_type = "OrderPlaced"

    order_id: Id
    order_number: str = Field(min_length=1, description="Shown to the customer")
    customer: Customer
    billing_address: Address | None = Field(
        default=None, description="None: same as shipping_address"
    )
    shipping_address: Address
    lines: list[OrderLine] = Field(min_length=1)
    currency: Currency
    net_total: Amount
    vat_total: Amount
    gross_total: Amount
    shipping: ShippingCharge | None = None
    coupon_codes: list[str] = Field(default_factory=list)
    buyer_vat_id: Annotated[str | None, Personal("vat_id")] = Field(
        default=None, description="USt-IdNr. of a business buyer"
    )
    buyer_reference: Annotated[
        str | None, NotPersonal("a public-sector buyer's routing id (Leitweg-ID)")
    ] = Field(
        default=None,
        max_length=46,
        description="Leitweg-ID of a public-sector buyer: the XRechnung Buyer reference (BT-10)",
    )
    placed_at: AwareDatetime
    payment_method: str | None = Field(
        default=None, description="e.g. invoice, prepayment, paypal, card, sepa_direct_debit"
    )
    discount_gross: Amount | None = Field(
        default=None, description="Total coupon discount, already included in the lines"
    )
    coupon_discounts: dict[str, Amount] | None = Field(
        default=None,
        description="discount_gross per coupon code (they add up to it); None: no coupon, "
        "or placed before this field",
    )
    sales_channel: str | None = Field(default=None, description="e.g. webshop, marketplace")
    locale: str | None = Field(default=None, description="Customer's language, e.g. de-DE")
    price_basis: Literal["gross", "net"] | None = Field(
        default=None,
        description="gross: a consumer's lines are quantity x unit gross, VAT derived per "
        "rate from the gross sum; net: a business buyer's, VAT per rate from the net sum",
    )
    vat_exemption: VatExemption | None = Field(
        default=None,
        description="Set for a VAT-free intra-community supply (§4 Nr. 1b, §6a UStG): "
        "every line and the shipping at 0 %",
    )
    vat_country: CountryCode | None = Field(
        default=None,
        description="Set for a distance sale to a consumer taxed in the destination member "
        "state (One-Stop-Shop, §3c UStG): every line and the shipping carry that state's "
        "rates (kontor_contracts.eu_vat); None: German VAT (or the exemption)",
    )


class OrderConfirmed(Event):
    """Stock is reserved and the order is accepted (Auftragsbestätigung)."""

    event_type = "OrderConfirmed"

    order_id: Id
    order_number: str | None = None
    confirmed_at: AwareDatetime | None = None


class OrderRejected(Event):
    """The order could not be accepted (no stock, failed payment check, ...)."""

    event_type = "OrderRejected"

    order_id: Id
    reason: str = Field(min_length=1, description="e.g. out_of_stock, payment_declined")
    order_number: str | None = None
    details: list[str] = Field(default_factory=list)


#: ``OrderCancelled.reason`` of a prepayment order not paid in time (``cancelled_by``
#: system): its reservation expired, the catalog releases it with reason ``expired``.
PREPAYMENT_NOT_RECEIVED = "prepayment_not_received"


class OrderCancelled(Event):
    """The order was cancelled before shipping; ``lines`` are to be released."""

    event_type = "OrderCancelled"

    order_id: Id
    reason: str = Field(
        min_length=1,
        description="Free text, or prepayment_not_received (by system: unpaid in time)",
    )
    lines: list[SkuQuantity] = Field(default_factory=list)
    order_number: str | None = None
    cancelled_by: str | None = Field(default=None, description="customer, merchant or system")


class ShippedLine(ContractModel):
    line_no: int = Field(ge=1)
    sku: Sku
    quantity: Quantity


class OrderShipped(Event):
    """A shipment (full or partial) left the warehouse."""

    event_type = "OrderShipped"

    order_id: Id
    shipment_id: Id
    carrier: str = Field(min_length=1, description="e.g. DHL, DPD, Hermes")
    tracking_number: str | None = None
    lines: list[ShippedLine] = Field(min_length=1)
    complete: bool = Field(description="True when this shipment completes the order")
    shipped_at: AwareDatetime | None = None
    warehouse: Id | None = None
    tracking_url: str | None = None


class OrderDelivered(Event):
    """The carrier reported delivery (starts the 14-day withdrawal period)."""

    event_type = "OrderDelivered"

    order_id: Id
    delivered_at: AwareDatetime
    shipment_id: Id | None = None


# --- orders.return.v1 (key: return_id) ---------------------------------------------


class ReturnLine(ContractModel):
    sku: Sku
    quantity: Quantity
    reason: str | None = Field(default=None, description="e.g. too_small, not_as_described")
    line_no: int | None = Field(default=None, ge=1, description="Order line returned")


class ReturnRequested(Event):
    """The customer announced a return."""

    event_type = "ReturnRequested"

    return_id: Id
    order_id: Id
    lines: list[ReturnLine] = Field(min_length=1)
    requested_at: AwareDatetime
    withdrawal: bool = Field(
        description="True: statutory withdrawal (Widerruf, §355 BGB); False: goodwill"
    )


class WithdrawnLine(ContractModel):
    """A line of a withdrawal as the customer saw it on the receipt."""

    line_no: int = Field(ge=1)
    sku: Sku
    name: Annotated[str, NotPersonal("the product's name")] = Field(
        min_length=1, description="The product's name on the order"
    )
    quantity: Quantity


class WithdrawalReceived(Event):
    """A consumer's withdrawal (Widerruf) was received through the withdrawal function.

    The merchant must confirm its receipt without delay on a durable medium (§356a BGB):
    this event carries what the receipt says and where to send it. The receipt page
    already shows and offers it for download; support is to mail it (it does not send
    mail yet). Published once per withdrawal, also if the customer confirms twice.
    """

    event_type = "WithdrawalReceived"

    withdrawal_id: Id
    return_id: Id
    order_id: Id
    order_number: str = Field(min_length=1, max_length=32)
    customer: Customer
    lines: list[WithdrawnLine] = Field(min_length=1)
    received_at: AwareDatetime = Field(description="When the declaration was received")
    language: Literal["de", "en"] = Field(
        default="de", description="The language of the page it was declared on"
    )
    cancels_order: bool = Field(
        default=False,
        description="Nothing was shipped yet: the withdrawal is of the whole order and "
        "cancelled it (OrderCancelled; what was paid is refunded, ReturnCompleted)",
    )


class ReceivedReturnLine(ContractModel):
    sku: Sku
    quantity: Quantity
    condition: str = Field(min_length=1, description="e.g. as_new, opened, used, damaged")
    disposition: Literal["restock", "write_off"]
    warehouse: Id | None = None
    line_no: int | None = Field(default=None, ge=1)


class ReturnReceived(Event):
    """Returned goods arrived and were inspected."""

    event_type = "ReturnReceived"

    return_id: Id
    order_id: Id
    lines: list[ReceivedReturnLine] = Field(min_length=1)
    received_at: AwareDatetime | None = None


class ReturnCompleted(Event):
    """The return is settled: the refund amount is decided (billing issues the credit note)."""

    event_type = "ReturnCompleted"

    return_id: Id
    order_id: Id
    refund_amount: Amount = Field(description="Gross amount to refund")
    currency: Currency
    includes_shipping: bool = Field(description="Whether the original shipping is refunded")
    lines: list[ShippedLine] = Field(
        default_factory=list, description="Order lines and quantities refunded"
    )
    completed_at: AwareDatetime | None = None


# --- orders.complaint.v1 (key: complaint_id) ---------------------------------------


class ComplaintFiled(Event):
    """A customer complained about an article (Reklamation, warranty claim)."""

    event_type = "ComplaintFiled"

    complaint_id: Id
    order_id: Id
    sku: Sku
    description: Annotated[str, Personal("text")] = Field(min_length=1)
    photo_ids: list[str] = Field(default_factory=list)
    customer: Customer | None = None
    kind: str | None = Field(
        default=None, description="e.g. defect, transport_damage, wrong_item, missing_item"
    )
    desired_remedy: str | None = Field(
        default=None, description="repair, replacement, refund or price_reduction (§437 BGB)"
    )
    filed_at: AwareDatetime | None = None


class ReplacementRequested(Event):
    """A complaint is resolved by a replacement: a shipment of ``quantity`` x ``sku`` for
    the order, to be reserved and booked out of stock (the catalog answers with
    ReplacementStockBooked or ReplacementStockRejected)."""

    event_type = "ReplacementRequested"

    complaint_id: Id
    order_id: Id
    line_no: int = Field(ge=1, description="Order line replaced")
    sku: Sku
    quantity: Quantity
    carrier: str = Field(min_length=1)
    tracking_number: str | None = None
    requested_at: AwareDatetime


# --- orders.privacy_request.v1 (key: request_id) -------------------------------------
# The privacy request protocol (issue 13, ADR 0035): orders coordinates a request (a
# customer's data exported or erased); every service answers on the same topic
# (``TopicSpec.producers``), keyed by the request, so the answers of one request stay
# in order with it.


class PrivacyRequest(ContractModel):
    """What a data export and an erasure request carry (the base of both)."""

    #: Sealed with the request's own key: an erasure destroys the person's key at once,
    #: and every service still has to read the e-mail it finds the data by (ADR 0036).
    sealed_per: ClassVar[Literal["person", "aggregate"]] = "aggregate"

    request_id: Id
    subject_id: Id = Field(description="The person's pseudonymous id (keyed HMAC of the e-mail)")
    email: Annotated[Email, Personal("email")] = Field(
        description="How each service finds the person's data"
    )
    requested_at: AwareDatetime
    expected: list[str] = Field(
        default_factory=list, description="The services whose answers complete the request"
    )


class PrivacyAnswer(ContractModel):
    """What every service's answer to a privacy request carries (the base of both)."""

    request_id: Id
    service: str = Field(min_length=1)
    subject_id: Id


class DataExportRequested(PrivacyRequest, Event):
    """The merchant asked, on a customer's behalf, for a copy of their data (Art. 15/20)."""

    event_type = "DataExportRequested"


class CustomerDataExported(PrivacyAnswer, Event):
    """One service's part of a data export."""

    event_type = "CustomerDataExported"

    part: Annotated[dict[str, Any] | None, Personal("text")] = Field(
        default=None, description="The service's part of the export document (JSON)"
    )
    blob_ref: str | None = Field(
        default=None,
        description="Where a part too large for an event is stored instead: the id of a "
        "blob in the privacy database's export_parts bucket (part is null then, ADR 0142)",
    )
    blob_size: int | None = Field(
        default=None, ge=0, description="The stored part's length in bytes (its JSON)"
    )
    blob_sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="The SHA-256 of the stored part's bytes (hex), which orders checks",
    )
    exported_at: AwareDatetime


class ErasureRequested(PrivacyRequest, Event):
    """The merchant asked, on a customer's behalf, to erase their data (Art. 17)."""

    event_type = "ErasureRequested"


class ErasedItem(ContractModel):
    """What a service did to one kind of record of the person."""

    what: str = Field(min_length=1, description="e.g. orders, carts, invoices")
    count: int = Field(ge=0)
    why: str | None = Field(
        default=None, description="For retained records: the law or purpose, e.g. §147 AO"
    )
    until: date | None = Field(default=None, description="For retained records: kept until")


class CustomerDataErased(PrivacyAnswer, Event):
    """One service erased (deleted or anonymised) the person's data, keeping what law needs."""

    event_type = "CustomerDataErased"

    deleted: list[ErasedItem] = Field(default_factory=list)
    anonymised: list[ErasedItem] = Field(default_factory=list)
    retained: list[ErasedItem] = Field(default_factory=list)
    erased_at: AwareDatetime
