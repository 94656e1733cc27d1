"""Cart use cases: every change emits the full cart (CartUpdated), checkout emits
CheckoutStarted, and a sweeper abandons carts that stay quiet after checkout."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from kontor_contracts.events.orders import CartAbandoned, CartUpdated, CheckoutStarted
from kontor_contracts.events.orders import CartLine as CartLineEvent
from kontor_servicekit.store import Store, Transaction

from kontor_orders.domain.cart import Cart
from kontor_orders.domain.order import PricedProduct
from kontor_orders.store.carts import CartRepository, quiet_checkouts
from kontor_orders.store.catalog_products import priced_products

log = logging.getLogger(__name__)


class UnknownCart(LookupError):
    pass


def _lines(cart: Cart) -> list[CartLineEvent]:
    return [
        CartLineEvent(
            sku=line.sku,
            quantity=line.quantity,
            unit_price_gross=line.unit_price_gross,
            name=line.name,
        )
        for line in cart.lines
    ]


def _updated(cart: Cart) -> CartUpdated:
    return CartUpdated(
        cart_id=cart.id,
        customer_email=cart.customer_email,
        lines=_lines(cart),
        currency=cart.currency,
        value=cart.value,
    )


async def create_cart(store: Store, *, customer_email: str | None, now: datetime) -> Cart:
    cart = Cart(
        id=str(uuid.uuid4()), created_at=now, last_activity_at=now, customer_email=customer_email
    )

    async def work(tx: Transaction) -> Cart:
        await CartRepository(tx).add(cart)
        tx.emit(_updated(cart), aggregate_id=cart.id)
        return cart

    return await store.transaction(work)


async def _change(store: Store, cart_id: str, change: Callable[[Cart, Transaction], bool]) -> Cart:
    async def work(tx: Transaction) -> Cart:
        cart = await CartRepository(tx).get(cart_id)
        if cart is None:
            raise UnknownCart(cart_id)
        if change(cart, tx):
            await CartRepository(tx).save(cart)
        return cart

    return await store.transaction(work)


async def set_cart_line(store: Store, cart_id: str, sku: str, quantity: int, now: datetime) -> Cart:
    products = await priced_products(store.db, [sku])
    product: PricedProduct | None = products.get(sku)

    def change(cart: Cart, tx: Transaction) -> bool:
        cart.set_line(product, sku, quantity, now)
        tx.emit(_updated(cart), aggregate_id=cart.id)
        return True

    return await _change(store, cart_id, change)


class NoSuchLine(LookupError):
    pass


async def remove_cart_line(store: Store, cart_id: str, sku: str, now: datetime) -> Cart:
    def change(cart: Cart, tx: Transaction) -> bool:
        if not cart.remove_line(sku, now):
            raise NoSuchLine(sku)
        tx.emit(_updated(cart), aggregate_id=cart.id)
        return True

    return await _change(store, cart_id, change)


async def start_checkout(store: Store, cart_id: str, now: datetime) -> Cart:
    def change(cart: Cart, tx: Transaction) -> bool:
        cart.start_checkout(now)
        tx.emit(
            CheckoutStarted(
                cart_id=cart.id,
                customer_email=cart.customer_email,
                lines=_lines(cart),
                currency=cart.currency,
                value=cart.value,
            ),
            aggregate_id=cart.id,
        )
        return True

    return await _change(store, cart_id, change)


async def abandon_quiet_carts(store: Store, *, quiet: timedelta, now: datetime) -> int:
    """Abandon every cart quiet for ``quiet`` since checkout; how many were abandoned.

    Each cart in its own transaction, re-checked inside it: a customer who touches
    the cart meanwhile wins (the write conflict retries and finds it active).
    """
    abandoned = 0
    for cart_id in await quiet_checkouts(store.db, now - quiet):

        def change(cart: Cart, tx: Transaction) -> bool:
            last_activity = cart.last_activity_at
            if not cart.abandon(now, quiet):
                return False
            tx.emit(
                CartAbandoned(
                    cart_id=cart.id,
                    value=cart.value,
                    currency=cart.currency,
                    last_activity_at=last_activity,
                    customer_email=cart.customer_email,
                    lines=_lines(cart),
                ),
                aggregate_id=cart.id,
            )
            return True

        cart = await _change(store, cart_id, change)
        abandoned += cart.status == "abandoned"
    return abandoned


class AbandonmentSweeper:
    """Periodically abandons quiet carts; started and stopped with the service.

    Several replicas may sweep at once: each abandonment is a transaction that
    re-checks the cart, so a cart is abandoned (and announced) once.
    """

    def __init__(
        self,
        store: Store,
        *,
        quiet: timedelta,
        interval_s: float,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.quiet = quiet
        self.interval_s = interval_s
        self.clock = clock
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            try:
                await abandon_quiet_carts(self.store, quiet=self.quiet, now=self.clock())
            except Exception:
                log.exception("abandoning quiet carts failed; trying again next round")
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="cart-abandonment")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
