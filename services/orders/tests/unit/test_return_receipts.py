"""Issue 10 points 10 and 11 over the in-memory unit of work: a receipt may split a
line by disposition and may be partial (the return stays open for the rest, or the
merchant closes it with a reason); the order becomes partially_returned / returned."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.events.orders import ReturnCompleted, ReturnReceived
from kontor_orders.application.order_life import deliver_order, ship_order
from kontor_orders.application.returns import (
    RequestReturn,
    close_return,
    receive_return,
    request_return,
)
from kontor_orders.domain.order import Order, OrderError
from kontor_orders.domain.returns import Return
from kontor_servicekit.domain_errors import IllegalTransition, Invalid

pytestmark = pytest.mark.unit


@pytest.fixture
async def order(world: Any) -> Order:
    await world.product("TEE", "10.00")
    placed: Order = await world.delivered(lines=(("TEE", 3), ("MUG", 1)))
    world.new_events()
    return placed


async def announce(world: Any, order: Order, lines: Any = ((1, 3, None),)) -> Return:
    command = RequestReturn(order.id, list(lines), "goodwill")
    r: Return = await request_return(world.transactor, command, world.clock)
    world.new_events()
    return r


def received_lines(event: ReturnReceived) -> list[tuple[int | None, int, str, str]]:
    return [(x.line_no, x.quantity, x.condition, x.disposition) for x in event.lines]


async def test_a_line_split_by_disposition(world: Any, order: Order) -> None:
    r = await announce(world, order)
    inspected = [(1, 2, "as_new", "restock"), (1, 1, "damaged", "write_off")]
    settled = await receive_return(world.transactor, r.id, inspected, world.clock)
    assert settled.status == "completed"
    assert settled.refund is not None and settled.refund.amount == Decimal("35.70")
    received, completed = world.new_events()
    assert isinstance(received, ReturnReceived) and isinstance(completed, ReturnCompleted)
    assert received_lines(received) == [(1, 2, "as_new", "restock"), (1, 1, "damaged", "write_off")]
    assert [(x.line_no, x.quantity) for x in completed.lines] == [(1, 3)]


async def test_a_partial_receipt_keeps_the_return_open_for_the_rest(
    world: Any, order: Order
) -> None:
    r = await announce(world, order)
    first = await receive_return(world.transactor, r.id, [(1, 2, "as_new", "restock")], world.clock)
    assert (first.status, first.refund, first.outstanding) == ("partially_received", None, {1: 1})
    [received] = world.new_events()  # the catalog restocks the two; no refund yet
    assert isinstance(received, ReturnReceived)
    assert received_lines(received) == [(1, 2, "as_new", "restock")]
    timeline = world.order(order.id).timeline[-1]
    assert (timeline.event, timeline.details["outstanding"]) == (
        "return_received",
        [{"line_no": 1, "quantity": 1}],
    )

    rest = await receive_return(
        world.transactor, r.id, [(1, 1, "opened", "write_off")], world.clock
    )
    assert rest.status == "completed" and rest.outstanding == {}
    assert rest.refund is not None and rest.refund.amount == Decimal("35.70")
    received, completed = world.new_events()
    assert isinstance(received, ReturnReceived) and isinstance(completed, ReturnCompleted)
    assert received_lines(received) == [(1, 1, "opened", "write_off")]  # only this receipt
    assert completed.refund_amount == Decimal("35.70")
    assert [(x.quantity, x.disposition) for x in rest.inspected] == [
        (2, "restock"),
        (1, "write_off"),
    ]


async def test_more_than_announced_is_refused_over_all_receipts(world: Any, order: Order) -> None:
    r = await announce(world, order)
    with pytest.raises(OrderError) as at_once:
        await receive_return(
            world.transactor,
            r.id,
            [(1, 2, "as_new", "restock"), (1, 2, "as_new", "write_off")],
            world.clock,
        )
    assert at_once.value.field == ("lines", 1, "quantity")
    await receive_return(world.transactor, r.id, [(1, 2, "as_new", "restock")], world.clock)
    with pytest.raises(OrderError) as later:
        await receive_return(world.transactor, r.id, [(1, 2, "as_new", "restock")], world.clock)
    assert later.value.field == ("lines", 0, "quantity")
    assert "1 not yet received" in str(later.value)


async def test_the_merchant_closes_a_partial_return_with_a_reason(world: Any, order: Order) -> None:
    r = await announce(world, order)
    await receive_return(world.transactor, r.id, [(1, 2, "as_new", "restock")], world.clock)
    world.new_events()
    with pytest.raises(Invalid) as no_reason:
        await close_return(world.transactor, r.id, "  ", world.clock)
    assert no_reason.value.problems[0].loc == ("reason",)

    closed = await close_return(world.transactor, r.id, "third piece never arrived", world.clock)
    assert (closed.status, closed.closed_reason) == ("completed", "third piece never arrived")
    assert closed.refund is not None and closed.refund.amount == Decimal("23.80")  # 2 of 35.70
    [completed] = world.new_events()
    assert isinstance(completed, ReturnCompleted) and completed.refund_amount == Decimal("23.80")
    stored = world.order(order.id)
    assert stored.returned == {1: 2}  # the third piece may still be returned
    assert stored.timeline[-2].event == "return_closed"
    assert stored.timeline[-2].details["not_received"] == [{"line_no": 1, "quantity": 1}]
    with pytest.raises(IllegalTransition) as twice:
        await close_return(world.transactor, r.id, "again", world.clock)
    assert twice.value.current_state == "completed"


async def test_closing_before_anything_arrived_refunds_nothing(world: Any, order: Order) -> None:
    r = await announce(world, order)
    closed = await close_return(world.transactor, r.id, "customer kept it", world.clock)
    assert closed.refund is not None and closed.refund.amount == Decimal("0")
    assert world.order(order.id).returned == {}
    assert world.order(order.id).status == "delivered"


async def test_the_order_is_partially_returned_then_returned(world: Any, order: Order) -> None:
    r = await announce(world, order, lines=((1, 3, None), (2, 1, None)))
    await receive_return(world.transactor, r.id, [(1, 3, "as_new", "restock")], world.clock)
    assert world.order(order.id).status == "partially_returned"
    await receive_return(world.transactor, r.id, [(2, 1, "as_new", "restock")], world.clock)
    stored = world.order(order.id)
    assert stored.status == "returned"
    assert [e.status for e in stored.timeline if e.event in ("partially_returned", "returned")] == [
        "partially_returned",
        "returned",
    ]


async def test_a_returned_order_cannot_be_marked_delivered(world: Any) -> None:
    order = await world.confirmed()
    await ship_order(
        world.transactor,
        order.id,
        carrier="DHL",
        tracking_number=None,
        lines=[(1, 2), (2, 1)],
        clock=world.clock,
    )
    r = await announce(world, order, lines=((1, 2, None), (2, 1, None)))
    await receive_return(
        world.transactor,
        r.id,
        [(1, 2, "as_new", "restock"), (2, 1, "as_new", "restock")],
        world.clock,
    )
    with pytest.raises(IllegalTransition) as caught:
        await deliver_order(world.transactor, order.id, delivered_at=None, clock=world.clock)
    assert caught.value.current_state == "returned"
