"""Placing an order: price it from the catalog read model, store it, emit OrderPlaced."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from kontor_contracts.eu_vat import is_distance_sale
from kontor_servicekit.clock import BERLIN, Clock
from kontor_servicekit.domain_errors import Invalid, Unavailable
from kontor_servicekit.uow import Transactor

from kontor_orders.application.contract_events import publish_cart, publish_order
from kontor_orders.application.unit_of_work import OrderNumbers, OrdersUnitOfWork
from kontor_orders.domain.cart import Cart
from kontor_orders.domain.coupons import Coupon, coupon_discount, coupon_lines, gross_by_code
from kontor_orders.domain.order import (
    Address,
    Customer,
    Order,
    OrderError,
    PricedProduct,
    ShippingCharge,
    require_company_for_vat_id,
)
from kontor_orders.domain.oss import taxed_in
from kontor_orders.domain.shipping import shipping_charge


@dataclass(frozen=True)
class PlaceOrder:
    customer: Customer
    shipping_address: Address
    billing_address: Address | None
    lines: list[tuple[str, int]] | None
    """(sku, quantity); None when the order is placed from ``cart_id``."""
    buyer_vat_id: str | None = None
    buyer_reference: str | None = None
    coupon_codes: list[str] = field(default_factory=list)
    shipping_method: str | None = None
    payment_method: str | None = None
    cart_id: str | None = None
    locale: str | None = None
    """BCP 47, normalised (``de-DE``): the customer's language for documents and mails."""


class NumberTaken(Unavailable):
    """No free order number right now (the allocator's floor is too low); retry."""

    def __init__(self) -> None:
        super().__init__("no free order number right now; retry shortly", retry_after_s=1)


#: How many numbers are tried before the request is answered 503.
NUMBER_ATTEMPTS = 5


async def place_order(
    transactor: Transactor[OrdersUnitOfWork],
    numbers: OrderNumbers,
    command: PlaceOrder,
    clock: Clock,
    *,
    oss_opt_in: bool = False,
) -> Order:
    """Price, store and announce an order; raises OrderError for bad lines.

    Order numbers are unique and increase per process but may have gaps: unlike
    invoice numbers they need not be consecutive, and taking them from a shared
    counter inside every order's transaction made concurrent orders conflict.
    """
    require_company_for_vat_id(
        command.buyer_vat_id, command.shipping_address, command.billing_address
    )
    if (command.lines is None) == (command.cart_id is None):
        msg = "give either lines or cart_id" if command.lines else "Field required"
        raise Invalid(msg, field=("lines",), type_="missing")
    now = clock()
    order_id = str(uuid.uuid4())

    async def work(uow: OrdersUnitOfWork) -> Order:
        cart: Cart | None = None
        requested = command.lines or []
        if command.cart_id is not None:
            cart = await uow.carts.get(command.cart_id)
            if cart is None:
                raise OrderError(("cart_id",), f"no cart {command.cart_id!r}")
            requested = cart.order_from()
        products = await uow.products.priced([sku for sku, _ in requested])
        if cart is not None:
            products = cart.prices_for_order(products, now)
        place = partial(
            Order.place,
            order_id=order_id,
            customer=command.customer,
            shipping_address=command.shipping_address,
            billing_address=command.billing_address,
            requested=requested,
            products=products,
            now=now,
            buyer_vat_id=command.buyer_vat_id,  # who buys decides the pricing and the VAT
            buyer_reference=command.buyer_reference,
            locale=command.locale,
        )
        # Validate before taking a number, so a rejected request uses none up.
        draft = place(number="pending")
        coupons = list[tuple[Coupon, Decimal]]()
        customer_key = uow.subject_id(command.customer.email)  # counts, no address stored
        if command.coupon_codes:
            articles = await uow.products.articles([line.sku for line in draft.lines])
            discounts, coupons = coupon_discount(
                command.coupon_codes,
                await uow.coupons.known(command.coupon_codes),
                used=await uow.coupons.used(command.coupon_codes),
                uses=await uow.coupons.uses(command.coupon_codes, customer_key),
                lines=coupon_lines(draft, articles),
                currency=draft.currency,
                now=now,
            )
            place = partial(place, discounts=discounts)
            draft = place(number="pending")
        shipping = await _shipping(uow, command, draft, products)
        year = now.astimezone(BERLIN).year
        home = place(number="pending", shipping=shipping)
        vat_country = None
        if is_distance_sale(command.buyer_vat_id, command.shipping_address.country):
            vat_country = taxed_in(
                buyer_vat_id=command.buyer_vat_id,
                destination=command.shipping_address.country,
                sales=await uow.distance_sales.of(year),
                sale_net_at_home=home.net_total,
                opt_in=oss_opt_in,
            )
        if vat_country is not None:  # same gross, the destination's rates (ADR 0026)
            place = partial(place, vat_country=vat_country)
            draft = place(number="pending")
            shipping = await _shipping(uow, command, draft, products)
        order = place(
            number=await free_number(uow, numbers, year),
            shipping=shipping,
            coupon_codes=command.coupon_codes,
            cart_id=command.cart_id,
            payment_method=command.payment_method,
        )
        if cart is not None:
            cart.mark_ordered(order.id, now)
            await uow.carts.save(cart)
            publish_cart(uow, cart)
        order.coupon_discounts = gross_by_code(coupons, order.discount_gross, order.currency)
        for coupon, _ in coupons:
            if coupon.single_use:  # unique per code, in this order's transaction
                await uow.coupons.redeem(coupon.code, order.id, now)
            if coupon.counted:  # limits: counters changed in this order's transaction
                await uow.coupons.count_use(coupon.code, customer_key, order.id, now)
        await uow.orders.add(order)
        if order.distance_sale_net is not None:
            await uow.distance_sales.add(year, order.distance_sale_net)
        publish_order(uow, order)
        return order

    return await transactor.run(work)


async def _shipping(
    uow: OrdersUnitOfWork,
    command: PlaceOrder,
    draft: Order,
    products: dict[str, PricedProduct],
) -> ShippingCharge | None:
    """The shipping charge of the drafted order (its VAT follows the draft's goods)."""
    if command.shipping_method is None:
        return None
    method, standard = await uow.shipping_methods.with_standard(command.shipping_method)
    return shipping_charge(
        method,
        standard,
        requested=command.shipping_method,
        currency=draft.currency,
        country=command.shipping_address.country,
        goods_gross=draft.gross_total,
        # an article without a known weight counts as 0 g
        weight_grams=sum(
            (products[line.sku].weight_grams or 0) * line.quantity for line in draft.lines
        ),
        goods_net_by_rate=draft.goods_net_by_rate,
    )


async def free_number(uow: OrdersUnitOfWork, numbers: OrderNumbers, year: int) -> str:
    """The next order number of ``year`` no order has.

    Numbers handed out before the allocator's floor was raised (an older version
    counted differently) are skipped, never reused; the unique index stays the guard.
    A unit of work that runs again (a write conflict) takes a new number: a gap.
    """
    for _ in range(NUMBER_ATTEMPTS):
        number = f"B-{year}-{await numbers.next(f'order-number:{year}'):06d}"
        if not await uow.orders.number_taken(number):
            return number
    raise NumberTaken()
