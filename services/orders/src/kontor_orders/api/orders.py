"""HTTP routes of orders."""

from __future__ import annotations

import re
from dataclasses import asdict
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request, Response, status
from kontor_servicekit.apitypes import Instant, MoneyAmount, Quantity
from kontor_servicekit.auth import require_scope
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.errors import problem_responses
from kontor_servicekit.idempotency import IdempotencyKey
from kontor_servicekit.languages import normalized_locale
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from kontor_orders.application.place_order import PlaceOrder, place_order
from kontor_orders.context import Context
from kontor_orders.domain import order as domain
from kontor_orders.domain.leitweg import leitweg_id_problem
from kontor_orders.domain.parties import (
    ISO_COUNTRIES,
    normalize_coupon_codes,
    normalize_vat_id,
    vat_id_problem,
)
from kontor_orders.domain.returns import withdrawal_deadline

router = APIRouter(tags=["orders"])

PaymentMethod = Literal["prepayment", "invoice", "paypal", "card", "sepa_direct_debit"]

#: German postcodes have five digits; other countries are checked for length only here.
POSTCODE_DE = r"^\d{5}$"


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    name: str = Field(min_length=1, max_length=200)
    customer_id: str | None = Field(default=None, max_length=128)


class AddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # country before postcode: the postcode's check depends on the country
    name: str = Field(min_length=1, max_length=200)
    company: str | None = Field(default=None, max_length=200)
    street: str = Field(min_length=1, max_length=200)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    postcode: str = Field(min_length=2, max_length=12)
    city: str = Field(min_length=1, max_length=100)

    @field_validator("country")
    @classmethod
    def _country_is_assigned(cls, country: str) -> str:
        if country not in ISO_COUNTRIES:
            raise ValueError(f"{country!r} is not an ISO 3166-1 alpha-2 country code")
        return country

    @field_validator("postcode")
    @classmethod
    def _postcode_fits_country(cls, postcode: str, info: ValidationInfo) -> str:
        postcode = postcode.strip()
        if info.data.get("country") == "DE" and not re.match(POSTCODE_DE, postcode):
            raise ValueError("a German postcode has five digits")
        return postcode

    def to_domain(self) -> domain.Address:
        return domain.Address(
            name=self.name,
            company=self.company,
            street=self.street,
            postcode=self.postcode,
            city=self.city,
            country=self.country,
        )


class LineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str = Field(min_length=1, max_length=64)
    quantity: Quantity


class OrderIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "customer": {"email": "anna@example.de", "name": "Anna Muster"},
                    "shipping_address": {
                        "name": "Anna Muster",
                        "street": "Hauptstr. 1",
                        "postcode": "10115",
                        "city": "Berlin",
                        "country": "DE",
                    },
                    "lines": [{"sku": "TEE-RED-M", "quantity": 2}],
                }
            ]
        },
    )
    customer: CustomerIn
    shipping_address: AddressIn
    billing_address: AddressIn | None = None
    lines: list[LineIn] | None = Field(
        default=None, min_length=1, max_length=200, description="Required unless cart_id is given"
    )
    cart_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Order the content of this cart, priced now (instead of lines)",
    )
    buyer_vat_id: str | None = Field(
        default=None,
        max_length=20,
        description="USt-IdNr. of a business buyer (DE + 9 digits, or another EU format)",
    )
    buyer_reference: str | None = Field(
        default=None,
        max_length=46,
        description="Leitweg-ID of a public-sector buyer (XRechnung Buyer reference, BT-10), "
        "e.g. 04011000-12345-03; format and check digits are checked",
    )
    coupon_codes: list[str] = Field(
        default_factory=list,
        max_length=5,
        description="Applied from the read model of marketing's coupons; an unknown code: 422",
    )
    shipping_method: str | None = Field(
        default=None,
        max_length=40,
        description="A method the catalog announced (e.g. standard, express); none: no charge",
    )
    payment_method: PaymentMethod | None = Field(
        default=None,
        description="How the customer pays; an unpaid prepayment order is cancelled after "
        "the days the service is set to (its stock goes back)",
    )
    locale: str | None = Field(
        default=None,
        max_length=35,
        description="The customer's language as the shop knows it (BCP 47, e.g. de-DE, "
        "en-GB): published in OrderPlaced, so the invoice and support's mails speak it "
        "(German or English; others fall back to German)",
    )

    @field_validator("buyer_vat_id")
    @classmethod
    def _vat_id_well_formed(cls, raw: str | None) -> str | None:
        if raw is None:
            return None
        vat_id = normalize_vat_id(raw)
        problem = vat_id_problem(vat_id)
        if problem:
            raise ValueError(problem)
        return vat_id

    @field_validator("locale")
    @classmethod
    def _locale(cls, raw: str | None) -> str | None:
        return None if raw is None else normalized_locale(raw)

    @field_validator("buyer_reference")
    @classmethod
    def _leitweg_id(cls, raw: str | None) -> str | None:
        if raw is None:
            return None
        problem = leitweg_id_problem(raw.strip())
        if problem:
            raise ValueError(problem)
        return raw.strip()

    @field_validator("coupon_codes")
    @classmethod
    def _coupon_codes(cls, codes: list[str]) -> list[str]:
        return normalize_coupon_codes(codes)


class LineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    line_no: int
    sku: str
    name: str
    quantity: int
    unit_price_net: MoneyAmount
    unit_price_gross: MoneyAmount
    vat_rate: Decimal
    line_net: MoneyAmount
    line_vat: MoneyAmount
    line_gross: MoneyAmount
    discount_gross: MoneyAmount = Field(
        default=Decimal("0"), description="What coupons took off this line (gross)"
    )


class TimelineEntryOut(BaseModel):
    event: str = Field(description="what happened, e.g. placed, confirmed, payment_received")
    at: Instant
    status: str = Field(description="the order's status afterwards")
    details: dict[str, Any] = Field(default_factory=dict)


class ShipmentLineOut(BaseModel):
    line_no: int
    quantity: int


class ShipmentOut(BaseModel):
    shipment_id: str
    carrier: str
    tracking_number: str | None
    lines: list[ShipmentLineOut]
    shipped_at: Instant


class VatRowOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    vat_rate: Decimal
    net: MoneyAmount
    vat: MoneyAmount
    gross: MoneyAmount


class ShippingChargeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    method: str
    carrier: str | None
    net: MoneyAmount
    vat_rate: Decimal = Field(description="The rate of the largest part")
    vat: MoneyAmount
    gross: MoneyAmount
    parts: list[VatRowOut] = Field(
        default_factory=list,
        description="Shipping follows the VAT of the goods: split over their rates by net",
    )


class VatIdCheckOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    vat_id: str
    checked_at: Instant = Field(description="Format and check digits checked (offline)")
    vies: str = Field(description="pending, or confirmed by a merchant (VIES, by hand)")
    confirmed_by: str | None = None
    confirmed_at: Instant | None = None
    reference: str | None = None


class OrderOut(BaseModel):
    id: str
    number: str
    status: str
    customer: CustomerIn
    shipping_address: AddressIn
    billing_address: AddressIn | None
    lines: list[LineOut]
    currency: str
    net_total: MoneyAmount
    vat_total: MoneyAmount
    gross_total: MoneyAmount
    placed_at: Instant
    shipping: ShippingChargeOut | None = None
    buyer_vat_id: str | None = None
    price_basis: str = Field(
        default="net", description="gross (consumer: quantity x unit gross) or net (business)"
    )
    vat_treatment: str = Field(
        default="domestic", description="or intra_community_supply, oss_distance_sale"
    )
    vat_country: str | None = Field(
        default=None,
        description="oss_distance_sale: the member state whose rates the order carries",
    )
    vat_note: str | None = Field(default=None, description="What the documents must say")
    vat_id_check: VatIdCheckOut | None = None
    vat_breakdown: list[VatRowOut] = Field(default_factory=list, description="Per rate")
    coupon_codes: list[str] = Field(default_factory=list)
    discount_gross: MoneyAmount | None = Field(
        default=None, description="Coupons' discount, gross, already in the lines and totals"
    )
    coupon_discounts: dict[str, MoneyAmount] = Field(
        default_factory=dict, description="discount_gross per code"
    )
    payment_method: str | None = None
    locale: str | None = Field(default=None, description="The customer's language (BCP 47)")
    amount_paid: MoneyAmount = Decimal("0")
    paid_at: Instant | None = None
    shipments: list[ShipmentOut] = Field(default_factory=list)
    delivered_at: Instant | None = None
    withdrawal_deadline: Instant | None = Field(
        default=None, description="End of the 14-day withdrawal period (Europe/Berlin)"
    )
    timeline: list[TimelineEntryOut] = Field(default_factory=list)
    quote_number: str | None = Field(
        default=None, description="The accepted quote it was placed from (its prices)"
    )

    @classmethod
    def of(cls, order: domain.Order) -> OrderOut:
        def address(a: domain.Address | None) -> AddressIn | None:
            if a is None:
                return None
            return AddressIn.model_construct(**asdict(a))

        shipping = address(order.shipping_address)
        assert shipping is not None
        discounts = order.line_discounts()
        return cls(
            id=order.id,
            number=order.number,
            status=order.status,
            customer=CustomerIn.model_construct(
                email=order.customer.email,
                name=order.customer.name,
                customer_id=order.customer.customer_id,
            ),
            shipping_address=shipping,
            billing_address=address(order.billing_address),
            lines=[
                LineOut.model_validate(line).model_copy(
                    update={"discount_gross": discounts[line.line_no]}
                )
                for line in order.lines
            ],
            currency=order.currency,
            net_total=order.net_total,
            vat_total=order.vat_total,
            gross_total=order.gross_total,
            placed_at=order.placed_at,
            shipping=None
            if order.shipping is None
            else ShippingChargeOut.model_validate(order.shipping),
            buyer_vat_id=order.buyer_vat_id,
            price_basis=order.price_basis,
            vat_treatment=order.vat_treatment,
            vat_country=order.vat_country,
            vat_note=order.vat_note,
            vat_id_check=None
            if order.vat_id_check is None
            else VatIdCheckOut.model_validate(order.vat_id_check),
            vat_breakdown=[VatRowOut.model_validate(row) for row in order.vat_breakdown],
            coupon_codes=order.coupon_codes,
            discount_gross=order.discount_gross,
            coupon_discounts=order.coupon_discounts,
            payment_method=order.payment_method,
            locale=order.locale,
            amount_paid=order.amount_paid,
            paid_at=order.paid_at,
            shipments=[
                ShipmentOut(
                    shipment_id=s.shipment_id,
                    carrier=s.carrier,
                    tracking_number=s.tracking_number,
                    lines=[ShipmentLineOut(line_no=n, quantity=q) for n, q in s.lines],
                    shipped_at=s.shipped_at,
                )
                for s in order.shipments
            ],
            delivered_at=order.delivered_at,
            withdrawal_deadline=withdrawal_deadline(order.delivered_at)
            if order.delivered_at
            else None,
            timeline=[
                TimelineEntryOut(event=e.event, at=e.at, status=e.status, details=e.details)
                for e in order.timeline
            ],
            quote_number=order.quote_number,
        )


OrderId = Annotated[str, Path(min_length=1, max_length=64)]


@router.post(
    "/orders",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderOut,
    dependencies=[Depends(require_scope("orders:write"))],
    responses=problem_responses(401, 403, 409, 413, 422),
    summary="Place an order from lines or from a cart (emits OrderPlaced)",
    description="With an `Idempotency-Key` a retry answers the first order again "
    "instead of placing a second one.",
)
async def post_order(
    ctx: Context, request: Request, body: OrderIn, idempotency_key: IdempotencyKey = None
) -> Response:
    command = PlaceOrder(
        customer=domain.Customer(
            email=body.customer.email,
            name=body.customer.name,
            customer_id=body.customer.customer_id,
        ),
        shipping_address=body.shipping_address.to_domain(),
        billing_address=body.billing_address.to_domain() if body.billing_address else None,
        lines=None if body.lines is None else [(line.sku, line.quantity) for line in body.lines],
        cart_id=body.cart_id,
        buyer_vat_id=body.buyer_vat_id,
        buyer_reference=body.buyer_reference,
        coupon_codes=body.coupon_codes,
        shipping_method=body.shipping_method,
        payment_method=body.payment_method,
        locale=body.locale,
    )
    return await ctx.answers.respond(
        request,
        ctx.transactor,
        lambda transactor: place_order(
            transactor, ctx.numbers, command, ctx.clock, oss_opt_in=ctx.oss_opt_in
        ),
        present=OrderOut.of,
        status_code=status.HTTP_201_CREATED,
        key=idempotency_key,
        body=body,
        location=lambda out: f"/orders/{out.id}",
    )


@router.get(
    "/orders/{order_id}",
    dependencies=[Depends(require_scope("orders:read"))],
    responses=problem_responses(401, 403, 404),
    summary="One order, by its id or its number (B-2026-000001)",
)
async def read_order(ctx: Context, order_id: OrderId) -> OrderOut:
    order = await ctx.orders.order(order_id)
    if order is None:
        raise NotFound("order", order_id)
    return OrderOut.of(order)
