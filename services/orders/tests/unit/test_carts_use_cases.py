"""Carts over the in-memory unit of work: changes announce the whole cart, checkout,
and the abandonment sweep moved by the fake clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.events.orders import CartAbandoned, CartUpdated, CheckoutStarted
from kontor_orders.application.carts import (
    abandon_quiet_carts,
    create_cart,
    remove_cart_line,
    set_cart_line,
    start_checkout,
)
from kontor_orders.domain.cart import Cart, NoSuchLine, UnknownCart
from kontor_orders.domain.order import OrderError
from kontor_servicekit.domain_errors import IllegalTransition
from kontor_servicekit.sweeper import Sweeper

pytestmark = pytest.mark.unit

QUIET = timedelta(hours=2)


async def a_cart(world: Any, email: str | None = "anna@example.de") -> Cart:
    cart: Cart = await create_cart(world.transactor, customer_email=email, clock=world.clock)
    return cart


def stored(world: Any, cart_id: str) -> Cart:
    [cart] = [c for c in world.db.rows("carts") if c.id == cart_id]
    assert isinstance(cart, Cart)
    return cart


async def test_a_new_cart_is_announced_empty(world: Any) -> None:
    cart = await a_cart(world)
    assert stored(world, cart.id).status == "open"
    [event] = world.new_events()
    assert isinstance(event, CartUpdated)
    assert (event.cart_id, event.customer_email, event.lines, event.value) == (
        cart.id,
        "anna@example.de",
        [],
        Decimal("0.00"),
    )


async def test_a_line_is_priced_now_and_the_whole_cart_announced(world: Any) -> None:
    cart = await a_cart(world)
    world.new_events()
    await set_cart_line(world.transactor, cart.id, "TEE", 2, world.clock)
    world.clock.advance(timedelta(minutes=1))
    changed = await set_cart_line(world.transactor, cart.id, "MUG", 1, world.clock)
    assert changed.value == Decimal("23.80") + Decimal("5.95")
    assert stored(world, cart.id).last_activity_at == world.clock()
    first, second = world.new_events()
    assert isinstance(first, CartUpdated) and isinstance(second, CartUpdated)
    assert [(x.sku, x.quantity, x.unit_price_gross) for x in second.lines] == [
        ("TEE", 2, Decimal("11.90")),
        ("MUG", 1, Decimal("5.95")),
    ]
    assert second.value == changed.value


async def test_an_unknown_sku_or_cart_is_refused(world: Any) -> None:
    cart = await a_cart(world)
    world.new_events()
    with pytest.raises(OrderError) as unknown_sku:
        await set_cart_line(world.transactor, cart.id, "NOPE", 1, world.clock)
    assert unknown_sku.value.field == ("path", "sku")
    assert unknown_sku.value.problems[0].location == "path"
    with pytest.raises(UnknownCart, match="no cart 'nope'"):
        await set_cart_line(world.transactor, "nope", "TEE", 1, world.clock)
    assert world.new_events() == []
    assert stored(world, cart.id).lines == []


async def test_removing_a_line_and_one_that_is_not_there(world: Any) -> None:
    cart = await a_cart(world)
    await set_cart_line(world.transactor, cart.id, "TEE", 1, world.clock)
    world.new_events()
    emptied = await remove_cart_line(world.transactor, cart.id, "TEE", world.clock)
    assert emptied.lines == [] and emptied.value == Decimal("0.00")
    [event] = world.new_events()
    assert isinstance(event, CartUpdated) and event.lines == []
    with pytest.raises(NoSuchLine, match="holds no 'TEE'"):
        await remove_cart_line(world.transactor, cart.id, "TEE", world.clock)
    assert world.new_events() == []


async def test_checkout_is_announced_and_an_empty_cart_refused(world: Any) -> None:
    empty = await a_cart(world)
    with pytest.raises(OrderError) as caught:
        await start_checkout(world.transactor, empty.id, world.clock)
    assert caught.value.field == ("path", "cart_id")
    cart = await a_cart(world)
    await set_cart_line(world.transactor, cart.id, "TEE", 1, world.clock)
    world.new_events()
    checking_out = await start_checkout(world.transactor, cart.id, world.clock)
    assert checking_out.status == "checkout"
    assert checking_out.checkout_started_at == world.clock()
    [event] = world.new_events()
    assert isinstance(event, CheckoutStarted) and event.value == Decimal("11.90")


async def test_an_ordered_cart_cannot_be_changed(world: Any) -> None:
    cart = await a_cart(world)
    await set_cart_line(world.transactor, cart.id, "TEE", 1, world.clock)
    await world.place(lines=None, cart_id=cart.id)
    world.new_events()
    with pytest.raises(IllegalTransition) as caught:
        await set_cart_line(world.transactor, cart.id, "TEE", 3, world.clock)
    assert caught.value.current_state == "ordered"
    assert str(caught.value) == f"cannot change cart {cart.id}: it is ordered"
    assert world.new_events() == []


async def test_the_sweep_abandons_carts_quiet_since_checkout_once(world: Any) -> None:
    quiet = await a_cart(world, "b@example.de")
    idle = await a_cart(world, None)  # never checked out
    for cart in (quiet, idle):
        await set_cart_line(world.transactor, cart.id, "TEE", 1, world.clock)
    started = world.clock()
    await start_checkout(world.transactor, quiet.id, world.clock)
    world.new_events()

    world.clock.advance(QUIET - timedelta(milliseconds=1))
    assert await abandon_quiet_carts(world.transactor, quiet=QUIET, clock=world.clock) == 0
    assert world.new_events() == []

    world.clock.advance(timedelta(milliseconds=1))
    assert await abandon_quiet_carts(world.transactor, quiet=QUIET, clock=world.clock) == 1
    assert stored(world, quiet.id).status == "abandoned"
    assert stored(world, idle.id).status == "open"
    [event] = world.new_events()
    assert isinstance(event, CartAbandoned)
    assert (event.cart_id, event.customer_email, event.value) == (
        quiet.id,
        "b@example.de",
        Decimal("11.90"),
    )
    assert event.last_activity_at == started

    world.clock.advance(QUIET)
    assert await abandon_quiet_carts(world.transactor, quiet=QUIET, clock=world.clock) == 0
    assert world.new_events() == []

    back = await set_cart_line(world.transactor, quiet.id, "TEE", 3, world.clock)
    assert back.status == "open"  # the customer came back


async def test_activity_in_checkout_postpones_abandonment(world: Any) -> None:
    cart = await a_cart(world)
    await set_cart_line(world.transactor, cart.id, "TEE", 1, world.clock)
    await start_checkout(world.transactor, cart.id, world.clock)
    world.clock.advance(QUIET - timedelta(minutes=1))
    await set_cart_line(world.transactor, cart.id, "TEE", 2, world.clock)
    world.clock.advance(timedelta(minutes=1))
    assert await abandon_quiet_carts(world.transactor, quiet=QUIET, clock=world.clock) == 0
    assert stored(world, cart.id).status == "checkout"


async def test_the_sweeper_runs_with_the_clock_it_is_given(world: Any) -> None:
    cart = await a_cart(world)
    await set_cart_line(world.transactor, cart.id, "TEE", 1, world.clock)
    await start_checkout(world.transactor, cart.id, world.clock)
    world.clock.advance(QUIET)
    sweeper = Sweeper(  # the kit's sweeper, as main.py builds it
        "cart-abandonment",
        lambda: abandon_quiet_carts(world.transactor, quiet=QUIET, clock=world.clock),
        interval_s=0.01,
    )
    sweeper.start()
    try:
        for _ in range(100):
            if stored(world, cart.id).status == "abandoned":
                break
            await asyncio.sleep(0.01)
    finally:
        await sweeper.stop()
    assert stored(world, cart.id).status == "abandoned"
    assert world.db.event_types().count("CartAbandoned") == 1
