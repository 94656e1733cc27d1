"""Checkout fixes the prices the customer saw for a stated time (issue 10 point 2).

Before: the cart showed 72.45 at checkout, the catalog raised a price, and
``POST /orders {cart_id}`` charged 87.45 with a 201.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.events.orders import OrderPlaced
from kontor_orders.application.carts import create_cart, set_cart_line, start_checkout
from kontor_orders.domain.cart import PricesChanged
from kontor_orders.domain.order import OrderError

pytestmark = pytest.mark.unit

LOCK = timedelta(minutes=30)


async def checked_out(world: Any) -> str:
    cart = await create_cart(world.transactor, customer_email=None, clock=world.clock)
    await set_cart_line(world.transactor, cart.id, "TEE", 2, world.clock)
    await set_cart_line(world.transactor, cart.id, "MUG", 1, world.clock)
    shown = await start_checkout(world.transactor, cart.id, world.clock, price_lock=LOCK)
    assert shown.prices_locked_until == world.clock() + LOCK
    assert shown.value == Decimal("29.75")  # 2 x 11.90 + 5.95
    return str(cart.id)


async def test_within_the_lock_the_order_charges_the_prices_shown_at_checkout(
    world: Any,
) -> None:
    cart_id = await checked_out(world)
    await world.product("TEE", "12.00")  # 14.28 gross from now on
    world.clock.advance(LOCK)  # the last moment of the lock
    order = await world.place(lines=None, cart_id=cart_id)
    assert order.gross_total == Decimal("29.75")
    assert [line.unit_price_gross for line in order.lines] == [Decimal("11.90"), Decimal("5.95")]
    [placed] = world.db.events(OrderPlaced)
    assert placed.gross_total == Decimal("29.75")


async def test_after_the_lock_a_changed_price_refuses_the_order_naming_the_line(
    world: Any,
) -> None:
    cart_id = await checked_out(world)
    await world.product("TEE", "12.00")
    world.clock.advance(LOCK + timedelta(seconds=1))
    with pytest.raises(PricesChanged) as caught:
        await world.place(lines=None, cart_id=cart_id)
    assert caught.value.details["changed_lines"] == [
        {"sku": "TEE", "unit_price_gross_seen": "11.90", "unit_price_gross_now": "14.28"}
    ]
    assert "TEE" in str(caught.value) and "MUG" not in str(caught.value)
    assert world.db.rows("orders") == []
    assert world.numbers.issued == {}


async def test_after_the_lock_unchanged_prices_are_charged(world: Any) -> None:
    cart_id = await checked_out(world)
    world.clock.advance(LOCK * 3)
    order = await world.place(lines=None, cart_id=cart_id)
    assert order.gross_total == Decimal("29.75")


async def test_a_cart_never_checked_out_is_refused_when_a_price_changed(world: Any) -> None:
    cart = await create_cart(world.transactor, customer_email=None, clock=world.clock)
    await set_cart_line(world.transactor, cart.id, "TEE", 2, world.clock)
    await world.product("TEE", "12.00")
    with pytest.raises(PricesChanged):
        await world.place(lines=None, cart_id=cart.id)


async def test_checkout_prices_the_cart_as_the_catalog_stands_then(world: Any) -> None:
    cart = await create_cart(world.transactor, customer_email=None, clock=world.clock)
    await set_cart_line(world.transactor, cart.id, "TEE", 2, world.clock)
    await world.product("TEE", "12.00")
    shown = await start_checkout(world.transactor, cart.id, world.clock, price_lock=LOCK)
    assert shown.value == Decimal("28.56")  # 2 x 14.28, the price the customer now sees
    await world.product("TEE", "15.00")
    order = await world.place(lines=None, cart_id=cart.id)
    assert order.gross_total == Decimal("28.56")


async def test_changing_the_cart_ends_the_lock(world: Any) -> None:
    cart_id = await checked_out(world)
    changed = await set_cart_line(world.transactor, cart_id, "MUG", 2, world.clock)
    assert changed.prices_locked_until is None


async def test_checkout_refuses_a_line_whose_product_was_discontinued(world: Any) -> None:
    cart = await create_cart(world.transactor, customer_email=None, clock=world.clock)
    await set_cart_line(world.transactor, cart.id, "MUG", 1, world.clock)
    await world.product("MUG", "5.00", discontinued=True)
    with pytest.raises(OrderError) as caught:
        await start_checkout(world.transactor, cart.id, world.clock, price_lock=LOCK)
    assert caught.value.field == ("lines", 0, "sku")
