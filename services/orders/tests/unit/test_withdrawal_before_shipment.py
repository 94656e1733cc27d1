"""Issue 10 point 7 over the in-memory unit of work: the public two-step withdrawal of
an order not yet shipped cancels it (OrderCancelled, which makes the catalog release
the reservation) and refunds what was paid (ReturnCompleted)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.events.billing import PaymentReceived
from kontor_contracts.events.orders import (
    OrderCancelled,
    ReturnCompleted,
    ReturnRequested,
    WithdrawalReceived,
)
from kontor_orders.application.order_life import on_payment_received, ship_order
from kontor_orders.application.returns import confirm_withdrawal, start_withdrawal
from kontor_orders.domain.order import Order, OrderError
from kontor_orders.domain.returns import Withdrawal
from kontor_servicekit.domain_errors import IllegalTransition
from kontor_servicekit.fakes import envelope_of

pytestmark = pytest.mark.unit


async def withdraw(world: Any, order: Order, lines: Any = None) -> Withdrawal:
    w: Withdrawal = await start_withdrawal(
        world.transactor,
        order_number=order.number,
        email=order.customer.email,
        lines=lines,
        clock=world.clock,
    )
    return w


async def pay(world: Any, order: Order, amount: Decimal) -> None:
    event = PaymentReceived(
        payment_id="p-1",
        order_id=order.id,
        amount=amount,
        currency="EUR",
        method="paypal",
        received_at=world.clock(),
    )
    await world.deliver(on_payment_received, event, envelope_of(event, occurred_at=world.clock()))


async def test_a_confirmed_order_is_withdrawn_from_by_cancelling_it(world: Any) -> None:
    order = await world.confirmed()
    world.new_events()
    pending = await withdraw(world, order)
    assert (pending.cancels_order, pending.deadline) == (True, None)
    assert [(x.line_no, x.sku, x.quantity) for x in pending.lines] == [(1, "TEE", 2), (2, "MUG", 1)]
    assert world.new_events() == [] and world.order(order.id).status == "confirmed"

    world.clock.advance(timedelta(hours=1))
    r = await confirm_withdrawal(world.transactor, pending.id, world.clock)
    assert (r.status, r.cancelled_order, r.requested_at, r.completed_at) == (
        "completed",
        True,
        world.clock(),
        world.clock(),
    )
    assert r.refund is not None and r.refund.amount == Decimal("0")  # nothing paid yet
    stored = world.order(order.id)
    assert stored.status == "cancelled"
    cancelled = next(e for e in stored.timeline if e.event == "cancelled")
    assert cancelled.details == {"reason": "withdrawal", "cancelled_by": "customer"}
    # no goods travel: no ReturnRequested, nothing to refund; the receipt for support
    event, received = world.new_events()
    assert isinstance(event, OrderCancelled)
    assert isinstance(received, WithdrawalReceived) and received.cancels_order
    assert (received.return_id, received.withdrawal_id) == (r.id, pending.id)
    assert [(x.sku, x.quantity) for x in received.lines] == [("TEE", 2), ("MUG", 1)]
    assert [(x.sku, x.quantity) for x in event.lines] == [("TEE", 2), ("MUG", 1)]
    assert (event.reason, event.cancelled_by) == ("withdrawal", "customer")


async def test_what_was_paid_is_refunded(world: Any) -> None:
    order = await world.confirmed()
    await pay(world, order, order.gross_total)
    assert world.order(order.id).status == "paid"
    world.new_events()
    r = await confirm_withdrawal(world.transactor, (await withdraw(world, order)).id, world.clock)
    assert r.refund is not None and r.refund.amount == order.gross_total == Decimal("29.75")
    cancelled, completed, received = world.new_events()
    assert isinstance(cancelled, OrderCancelled) and isinstance(completed, ReturnCompleted)
    assert isinstance(received, WithdrawalReceived) and received.cancels_order
    assert (completed.return_id, completed.refund_amount) == (r.id, Decimal("29.75"))
    assert [(x.line_no, x.quantity) for x in completed.lines] == [(1, 2), (2, 1)]
    assert world.order(order.id).refunded_total == Decimal("29.75")


async def test_a_partial_payment_is_refunded_as_paid(world: Any) -> None:
    order = await world.confirmed()
    await pay(world, order, Decimal("10.00"))
    r = await confirm_withdrawal(world.transactor, (await withdraw(world, order)).id, world.clock)
    assert r.refund is not None and r.refund.amount == Decimal("10.00")


async def test_an_order_still_waiting_for_its_reservation_can_be_withdrawn_from(
    world: Any,
) -> None:
    order = await world.place()
    r = await confirm_withdrawal(world.transactor, (await withdraw(world, order)).id, world.clock)
    assert r.cancelled_order and world.order(order.id).status == "cancelled"


async def test_before_shipment_a_withdrawal_is_of_the_whole_order(world: Any) -> None:
    order = await world.confirmed()
    with pytest.raises(OrderError) as caught:
        await withdraw(world, order, lines=[(1, 1, None)])
    assert caught.value.field == ("lines",)
    assert "cancels the whole order" in str(caught.value)
    everything = await withdraw(world, order, lines=[(2, 1, "zu spät"), (1, 2, None)])
    assert [(x.line_no, x.reason) for x in everything.lines] == [(1, None), (2, "zu spät")]


async def test_shipped_between_the_two_steps_the_shipped_goods_go_back(world: Any) -> None:
    order = await world.confirmed()
    pending = await withdraw(world, order)
    await ship_order(
        world.transactor,
        order.id,
        carrier="DHL",
        tracking_number=None,
        lines=[(1, 2)],
        clock=world.clock,
    )
    world.new_events()
    r = await confirm_withdrawal(world.transactor, pending.id, world.clock)
    assert (r.status, r.cancelled_order) == ("requested", False)
    assert [(x.line_no, x.quantity) for x in r.lines] == [(1, 2)]
    requested, received = world.new_events()
    assert isinstance(requested, ReturnRequested)
    assert isinstance(received, WithdrawalReceived) and not received.cancels_order
    assert world.order(order.id).status == "partially_shipped"


@pytest.mark.parametrize("closed", ["cancelled", "rejected"])
async def test_a_closed_order_is_not_withdrawn_from(world: Any, closed: str) -> None:
    order = await world.confirmed()
    pending = await withdraw(world, order)

    async def close(uow: Any) -> None:
        stored = await uow.orders.get(order.id)
        stored.status = closed
        await uow.orders.save(stored)

    await world.transactor.run(close)
    with pytest.raises(IllegalTransition) as caught:
        await confirm_withdrawal(world.transactor, pending.id, world.clock)
    assert caught.value.current_state == closed
    with pytest.raises(IllegalTransition):
        await withdraw(world, order)


async def test_a_second_confirmation_answers_the_same_cancellation_and_publishes_nothing(
    world: Any,
) -> None:
    order = await world.confirmed()
    await pay(world, order, order.gross_total)
    pending = await withdraw(world, order)
    first = await confirm_withdrawal(world.transactor, pending.id, world.clock)
    world.new_events()
    world.clock.advance(timedelta(days=30))  # a reload much later: still the same receipt
    again = await confirm_withdrawal(world.transactor, pending.id, world.clock)
    assert (again.id, again.requested_at, again.cancelled_order) == (
        first.id,
        first.requested_at,
        True,
    )
    assert again.refund is not None and again.refund.amount == Decimal("29.75")
    assert world.new_events() == []
    stored = world.order(order.id)
    assert stored.status == "cancelled" and stored.refunded_total == Decimal("29.75")
    assert [e.event for e in stored.timeline].count("cancelled") == 1
