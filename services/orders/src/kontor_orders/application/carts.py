"""Cart use cases: every change emits the full cart (CartUpdated), checkout emits
CheckoutStarted, and the kit's sweeper (main.py) abandons carts quiet after checkout."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from kontor_servicekit.clock import Clock
from kontor_servicekit.uow import Transactor

from kontor_orders.application.contract_events import publish_cart
from kontor_orders.application.unit_of_work import OrdersUnitOfWork
from kontor_orders.domain.cart import Cart, UnknownCart


async def create_cart(
    transactor: Transactor[OrdersUnitOfWork], *, customer_email: str | None, clock: Clock
) -> Cart:
    cart = Cart.open(cart_id=str(uuid.uuid4()), customer_email=customer_email, now=clock())

    async def work(uow: OrdersUnitOfWork) -> Cart:
        await uow.carts.add(cart)
        publish_cart(uow, cart)
        return cart

    return await transactor.run(work)


async def _load(uow: OrdersUnitOfWork, cart_id: str) -> Cart:
    cart = await uow.carts.get(cart_id)
    if cart is None:
        raise UnknownCart(cart_id)
    return cart


async def _save(uow: OrdersUnitOfWork, cart: Cart) -> None:
    """Store the cart if it changed, and announce what changed."""
    if cart.recorded_events:
        await uow.carts.save(cart)
        publish_cart(uow, cart)


async def _change(
    transactor: Transactor[OrdersUnitOfWork], cart_id: str, change: Callable[[Cart], None]
) -> Cart:
    async def work(uow: OrdersUnitOfWork) -> Cart:
        cart = await _load(uow, cart_id)
        change(cart)
        await _save(uow, cart)
        return cart

    return await transactor.run(work)


async def set_cart_line(
    transactor: Transactor[OrdersUnitOfWork],
    cart_id: str,
    sku: str,
    quantity: int,
    clock: Clock,
) -> Cart:
    """Put ``quantity`` pieces of ``sku`` in the cart, priced as the catalog stands now."""
    now = clock()

    async def work(uow: OrdersUnitOfWork) -> Cart:
        product = (await uow.products.priced([sku])).get(sku)
        cart = await _load(uow, cart_id)
        cart.set_line(product, sku, quantity, now)
        await _save(uow, cart)
        return cart

    return await transactor.run(work)


async def remove_cart_line(
    transactor: Transactor[OrdersUnitOfWork], cart_id: str, sku: str, clock: Clock
) -> Cart:
    now = clock()
    return await _change(transactor, cart_id, lambda cart: cart.remove_line(sku, now))


async def start_checkout(
    transactor: Transactor[OrdersUnitOfWork],
    cart_id: str,
    clock: Clock,
    *,
    price_lock: timedelta = timedelta(minutes=30),
) -> Cart:
    """Price the cart as the catalog stands and fix those prices for ``price_lock``."""
    now = clock()

    async def work(uow: OrdersUnitOfWork) -> Cart:
        cart = await _load(uow, cart_id)
        products = await uow.products.priced([line.sku for line in cart.lines])
        cart.start_checkout(now, products, price_lock)
        await _save(uow, cart)
        return cart

    return await transactor.run(work)


async def abandon_quiet_carts(
    transactor: Transactor[OrdersUnitOfWork], *, quiet: timedelta, clock: Clock
) -> int:
    """Abandon every cart quiet for ``quiet`` since checkout; how many were abandoned.

    Each cart in its own unit of work, re-checked inside it: a customer who touches
    the cart meanwhile wins (the write conflict retries and finds it active).
    """
    now = clock()
    quiet_ids = await transactor.run(lambda uow: uow.carts.quiet_checkouts(now - quiet))
    abandoned = 0
    for cart_id in quiet_ids:
        cart = await _change(transactor, cart_id, lambda cart: cart.abandon(now, quiet))
        abandoned += cart.status == "abandoned"
    return abandoned
