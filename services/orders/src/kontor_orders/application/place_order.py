"""Placing an order: price it from the catalog read model, store it, emit OrderPlaced."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from kontor_contracts.events import common
from kontor_contracts.events.orders import OrderLine as OrderLineEvent
from kontor_contracts.events.orders import OrderPlaced, ShippingCharge
from kontor_servicekit.clock import BERLIN, utc_now
from kontor_servicekit.numbers import NumberBlocks
from kontor_servicekit.store import Store, Transaction

from kontor_orders.domain.order import Address, Customer, IllegalTransition, Order, OrderError
from kontor_orders.domain.shipping import shipping_charge
from kontor_orders.store.carts import CartRepository, get_cart
from kontor_orders.store.catalog_products import priced_products
from kontor_orders.store.orders import ORDERS, OrderRepository
from kontor_orders.store.shipping_methods import methods_for


@dataclass(frozen=True)
class PlaceOrder:
    customer: Customer
    shipping_address: Address
    billing_address: Address | None
    lines: list[tuple[str, int]]
    buyer_vat_id: str | None = None
    coupon_codes: list[str] = field(default_factory=list)
    shipping_method: str | None = None
    cart_id: str | None = None


def _address_event(a: Address) -> common.Address:
    return common.Address(
        name=a.name,
        company=a.company,
        street=a.street,
        postcode=a.postcode,
        city=a.city,
        country=a.country,
    )


def order_placed(order: Order) -> OrderPlaced:
    return OrderPlaced(
        order_id=order.id,
        order_number=order.number,
        customer=common.Customer(
            customer_id=order.customer.customer_id,
            email=order.customer.email,
            name=order.customer.name,
        ),
        billing_address=_address_event(order.billing_address) if order.billing_address else None,
        shipping_address=_address_event(order.shipping_address),
        lines=[OrderLineEvent.model_validate(line, from_attributes=True) for line in order.lines],
        currency=order.currency,
        net_total=order.net_total,
        vat_total=order.vat_total,
        gross_total=order.gross_total,
        placed_at=order.placed_at,
        shipping=None
        if order.shipping is None
        else ShippingCharge.model_validate(order.shipping, from_attributes=True),
        coupon_codes=order.coupon_codes,
        buyer_vat_id=order.buyer_vat_id,
    )


class NumberTaken(RuntimeError):
    """The order number is in use already; the allocator's floor is too low."""


async def place_order(
    store: Store, numbers: NumberBlocks, command: PlaceOrder, now: datetime | None = None
) -> Order:
    """Price, store and announce an order; raises OrderError for bad lines.

    Order numbers are unique and increase per process but may have gaps: unlike
    invoice numbers they need not be consecutive, and taking them from a shared
    counter inside every order's transaction made concurrent orders conflict.
    """
    now = now or utc_now()
    requested = command.lines
    if command.cart_id is not None:
        cart = await get_cart(store.db, command.cart_id)
        if cart is None:
            raise OrderError(("cart_id",), f"no cart {command.cart_id!r}")
        requested = cart.order_from()
    products = await priced_products(store.db, [sku for sku, _ in requested])
    order_id = str(uuid.uuid4())
    # Validate before taking a number, so a rejected request uses none up.
    draft = Order.place(
        order_id=order_id,
        number="pending",
        customer=command.customer,
        shipping_address=command.shipping_address,
        billing_address=command.billing_address,
        requested=requested,
        products=products,
        now=now,
    )
    shipping = None
    if command.shipping_method is not None:
        method, standard = await methods_for(store.db, command.shipping_method)
        shipping = shipping_charge(
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
        )

    year = now.astimezone(BERLIN).year
    for _ in range(5):
        number = f"B-{year}-{await numbers.next(f'order-number:{year}'):06d}"
        # Numbers handed out before the allocator's floor was raised (an older version
        # counted differently) are skipped, never reused; the unique index stays the guard.
        if await store.db[ORDERS].find_one({"number": number}, {"_id": 1}) is None:
            break
    else:
        raise NumberTaken(number)

    async def work(tx: Transaction) -> Order:
        order = Order.place(
            order_id=order_id,
            number=number,
            customer=command.customer,
            shipping_address=command.shipping_address,
            billing_address=command.billing_address,
            requested=requested,
            products=products,
            now=now,
            shipping=shipping,
            buyer_vat_id=command.buyer_vat_id,
            coupon_codes=command.coupon_codes,
            cart_id=command.cart_id,
        )
        if command.cart_id is not None:
            carts = CartRepository(tx)
            cart = await carts.get(command.cart_id)
            assert cart is not None
            if cart.order_from() != requested:
                # changed between pricing and now: the customer must see the new content
                raise IllegalTransition("order a changed", "changed")
            cart.mark_ordered(order.id, now)
            await carts.save(cart)
        await OrderRepository(tx).add(order)
        tx.emit(order_placed(order), aggregate_id=order.id)
        return order

    return await store.transaction(work)
