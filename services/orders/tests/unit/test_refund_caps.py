"""Issue 10 points 6 and 8 over the in-memory unit of work: every refund, by a return's
receipt or a complaint, is capped by what is still refundable on its line and order;
a complaint about a line that was returned in full is refused.

Order B-2026-000001 of the issue: 3 x coffee (7 %, 7.48 a pack, line 22.44) and a
T-shirt (19 %, 29.99): 52.43 gross.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.events.orders import ReturnCompleted
from kontor_orders.application.complaints import (
    FileComplaint,
    ResolveComplaint,
    file_complaint,
    resolve_complaint,
)
from kontor_orders.application.returns import RequestReturn, receive_return, request_return
from kontor_orders.domain.complaint import Complaint
from kontor_orders.domain.order import Order
from kontor_orders.domain.refunds import (
    RefundExceedsRemaining,
    book_refund,
    capped,
    line_refundable,
    order_refundable,
    require_refundable,
)
from kontor_servicekit.domain_errors import IllegalTransition

pytestmark = pytest.mark.unit

COFFEE, TEE = 1, 2


@pytest.fixture
async def order(world: Any) -> Order:
    await world.product("COFFEE", "6.99", vat_rate="0.07")
    await world.product("SHIRT", "25.20")
    placed: Order = await world.delivered(lines=(("COFFEE", 3), ("SHIRT", 1)))
    assert [x.line_gross for x in placed.lines] == [Decimal("22.44"), Decimal("29.99")]
    assert placed.gross_total == Decimal("52.43")
    return placed


async def complain(world: Any, order: Order, line_no: int) -> Complaint:
    command = FileComplaint(order_id=order.id, line_no=line_no, description="defekt")
    c: Complaint = await file_complaint(world.transactor, command, world.clock)
    return c


async def refund_by_complaint(
    world: Any, order: Order, line_no: int, amount: str | None
) -> Decimal | None:
    c = await complain(world, order, line_no)
    command = ResolveComplaint("refund", amount=None if amount is None else Decimal(amount))
    resolved = await resolve_complaint(world.transactor, c.id, command, world.clock)
    assert resolved.resolution is not None
    return resolved.resolution.refund_amount


async def return_and_receive(world: Any, order: Order, line_no: int, quantity: int) -> Decimal:
    command = RequestReturn(order.id, [(line_no, quantity, None)], "withdrawal")
    r = await request_return(world.transactor, command, world.clock)
    inspected = [(line_no, quantity, "as_new", "restock")]
    settled = await receive_return(world.transactor, r.id, inspected, world.clock)
    assert settled.refund is not None
    return settled.refund.amount


def refunded(world: Any) -> list[Decimal]:
    return [e.refund_amount for e in world.db.events(ReturnCompleted)]


async def test_the_coffee_line_is_refunded_at_most_its_gross(world: Any, order: Order) -> None:
    assert await return_and_receive(world, order, COFFEE, 2) == Decimal("14.96")
    assert await refund_by_complaint(world, order, COFFEE, "7.48") == Decimal("7.48")
    with pytest.raises(RefundExceedsRemaining) as caught:
        await refund_by_complaint(world, order, COFFEE, "22.44")
    assert caught.value.details == {"remaining": "0.00", "currency": "EUR"}
    assert str(caught.value) == (
        "a refund of 22.44 EUR exceeds what is still refundable on line 1 of order "
        f"{order.number}: 0.00 EUR"
    )
    # the default (one pack) is refused as well when nothing is left
    with pytest.raises(RefundExceedsRemaining):
        await refund_by_complaint(world, order, COFFEE, None)
    assert refunded(world) == [Decimal("14.96"), Decimal("7.48")]
    assert world.order(order.id).refunded_lines == {COFFEE: Decimal("22.44")}


async def test_two_halves_of_the_shirt_are_one_cent_too_many(world: Any, order: Order) -> None:
    assert await refund_by_complaint(world, order, TEE, "15.00") == Decimal("15.00")
    with pytest.raises(RefundExceedsRemaining) as caught:
        await refund_by_complaint(world, order, TEE, "15.00")  # 30.00 > 29.99
    assert caught.value.remaining == Decimal("14.99")
    assert await refund_by_complaint(world, order, TEE, "14.99") == Decimal("14.99")


async def test_a_default_complaint_refund_is_cut_to_what_is_left(world: Any, order: Order) -> None:
    assert await return_and_receive(world, order, COFFEE, 2) == Decimal("14.96")
    assert await refund_by_complaint(world, order, COFFEE, "7.00") == Decimal("7.00")
    # one pack would be 7.48; 0.48 is left
    assert await refund_by_complaint(world, order, COFFEE, None) == Decimal("0.48")


async def test_a_return_after_complaint_refunds_is_cut_to_the_rest(
    world: Any, order: Order
) -> None:
    assert await refund_by_complaint(world, order, TEE, "15.00") == Decimal("15.00")
    assert await refund_by_complaint(world, order, COFFEE, "22.44") == Decimal("22.44")
    # the goods come back after all: the shirt's rest, nothing for the coffee
    assert await return_and_receive(world, order, TEE, 1) == Decimal("14.99")
    assert await return_and_receive(world, order, COFFEE, 3) == Decimal("0.00")
    # the order: never more than its 52.43 gross (the issue saw 74.88)
    stored = world.order(order.id)
    assert sum(refunded(world), Decimal("0")) == stored.refunded_total == Decimal("52.43")


async def test_the_last_piece_of_a_line_gets_what_rounding_left(world: Any) -> None:
    await world.product("SOCK", "12.60")  # 2 pieces: 25.20 net + 4.79 VAT = 29.99
    order = await world.delivered(lines=(("SOCK", 2),))
    gross = order.lines[0].line_gross
    first = await return_and_receive(world, order, 1, 1)  # half of 29.99, rounded: 15.00
    last = await return_and_receive(world, order, 1, 1)
    assert first + last == gross


async def test_no_complaint_about_a_line_that_was_returned_in_full(
    world: Any, order: Order
) -> None:
    command = RequestReturn(order.id, [(TEE, 1, None)], "withdrawal")
    r = await request_return(world.transactor, command, world.clock)
    with pytest.raises(IllegalTransition) as announced:
        await complain(world, order, TEE)  # on its way back
    assert str(announced.value) == (
        f"cannot complain about line {TEE} of order {order.number}: "
        "every shipped piece of it was returned"
    )
    await receive_return(world.transactor, r.id, [(TEE, 1, "as_new", "restock")], world.clock)
    with pytest.raises(IllegalTransition):
        await complain(world, order, TEE)
    assert world.db.rows("complaints") == []
    # a line returned in part may still be complained about
    await return_and_receive(world, order, COFFEE, 2)
    assert (await complain(world, order, COFFEE)).status == "open"


async def test_the_order_caps_below_its_lines_when_refunds_not_tied_to_a_line_were_booked(
    order: Order,
) -> None:
    # e.g. a refund of the order as a whole (a withdrawn order's payment, a discount on
    # the order): the lines still show their gross, the order has 2.00 left
    book_refund(order, {}, other=order.gross_total - Decimal("2.00"))
    assert line_refundable(order, TEE) == Decimal("29.99")
    assert order_refundable(order) == Decimal("2.00")
    lines, shipping = capped(order, {COFFEE: Decimal("7.48"), TEE: Decimal("29.99")})
    assert (lines, shipping) == ({COFFEE: Decimal("2.00"), TEE: Decimal("0.00")}, Decimal("0"))
    with pytest.raises(RefundExceedsRemaining) as caught:
        require_refundable(order, TEE, Decimal("2.01"))
    assert caught.value.details == {"remaining": "2.00", "currency": "EUR"}
    assert str(caught.value).endswith(f"on order {order.number}: 2.00 EUR")
    require_refundable(order, TEE, Decimal("2.00"))
