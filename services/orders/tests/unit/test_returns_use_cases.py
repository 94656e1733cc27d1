"""Returns over the in-memory unit of work: the customer's two-step withdrawal and its
14 days, merchant returns with the admin override, the receipt and the refund.

The order of ``world.delivered()`` is delivered on 3 June 2026 at 10:00 in Berlin, so
its withdrawal period ends on 17 June at 23:59:59.999 in Berlin (21:59:59.999 UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.events.orders import (
    ReturnCompleted,
    ReturnReceived,
    ReturnRequested,
    WithdrawalReceived,
)
from kontor_orders.application.order_life import cancel_order
from kontor_orders.application.returns import (
    RequestReturn,
    close_return,
    confirm_withdrawal,
    receive_return,
    request_return,
    start_withdrawal,
)
from kontor_orders.domain.order import Order, OrderError
from kontor_orders.domain.returns import DeadlinePassed, Return, Withdrawal
from kontor_servicekit.clock import BERLIN
from kontor_servicekit.domain_errors import IllegalTransition, Invalid, NotFound

pytestmark = pytest.mark.unit

DAY_14_LATE = datetime(2026, 6, 17, 23, 59, tzinfo=BERLIN)
DAY_15 = datetime(2026, 6, 18, 0, 0, tzinfo=BERLIN)
DEADLINE = "2026-06-17T23:59:59.999000+02:00"


async def withdraw(world: Any, order: Order, email: str = "anna@example.de") -> Withdrawal:
    withdrawal: Withdrawal = await start_withdrawal(
        world.transactor, order_number=order.number, email=email, lines=None, clock=world.clock
    )
    return withdrawal


async def merchant_return(world: Any, order: Order, **changes: Any) -> Return:
    fields: dict[str, Any] = {"order_id": order.id, "lines": [(1, 1, "defect")], "kind": "goodwill"}
    fields.update(changes)
    r: Return = await request_return(world.transactor, RequestReturn(**fields), world.clock)
    return r


def stored_withdrawal(world: Any) -> Withdrawal:
    [w] = world.db.rows("withdrawals")
    assert isinstance(w, Withdrawal)
    return w


# ------------------------------------------------------------------ the customer's withdrawal


async def test_a_withdrawal_in_two_steps(world: Any) -> None:
    order = await world.delivered()
    world.new_events()
    world.clock.set(DAY_14_LATE)

    pending = await withdraw(world, order, email="  ANNA@example.de ")
    assert (pending.status, pending.order_number) == ("pending", order.number)
    assert [(x.line_no, x.sku, x.quantity) for x in pending.lines] == [(1, "TEE", 2), (2, "MUG", 1)]
    assert pending.deadline is not None and pending.deadline.isoformat() == DEADLINE
    assert stored_withdrawal(world).status == "pending"
    assert world.new_events() == []  # nothing declared yet
    assert world.order(order.id).returned == {}

    r = await confirm_withdrawal(world.transactor, pending.id, world.clock)
    assert (r.withdrawal, r.kind, r.status, r.requested_at) == (
        True,
        "withdrawal",
        "requested",
        world.clock(),
    )
    declared = stored_withdrawal(world)
    assert (declared.status, declared.return_id, declared.confirmed_at) == (
        "confirmed",
        r.id,
        world.clock(),
    )
    stored_order = world.order(order.id)
    assert stored_order.returned == {1: 2, 2: 1}
    assert stored_order.timeline[-1].event == "withdrawal_declared"
    assert stored_order.timeline[-1].details == {"return_id": r.id, "withdrawal_id": pending.id}
    [requested, received] = world.new_events()
    assert isinstance(requested, ReturnRequested)
    assert (requested.return_id, requested.withdrawal) == (r.id, True)
    assert [(x.line_no, x.sku, x.quantity) for x in requested.lines] == [
        (1, "TEE", 2),
        (2, "MUG", 1),
    ]
    # the receipt on a durable medium: what it says and where support is to mail it
    assert isinstance(received, WithdrawalReceived)
    assert (received.withdrawal_id, received.return_id, received.order_number) == (
        pending.id,
        r.id,
        order.number,
    )
    assert received.customer.email == "anna@example.de" and received.language == "de"
    assert received.received_at == r.requested_at
    assert [(x.line_no, x.name, x.quantity) for x in received.lines] == [
        (1, order.lines[0].name, 2),
        (2, order.lines[1].name, 1),
    ]


async def test_a_withdrawal_is_declared_once_and_a_second_click_shows_the_same_receipt(
    world: Any,
) -> None:
    # was: the second confirmation raised IllegalTransition (409); issue 10 point 16
    order = await world.delivered()
    pending = await withdraw(world, order)
    first = await confirm_withdrawal(world.transactor, pending.id, world.clock)
    world.new_events()
    world.clock.advance(timedelta(minutes=5))
    again = await confirm_withdrawal(world.transactor, pending.id, world.clock, language="en")
    assert (again.id, again.requested_at) == (first.id, first.requested_at)
    assert world.new_events() == []
    assert len(world.db.rows("returns")) == 1
    assert world.order(order.id).returned == {1: 2, 2: 1}  # not booked twice


async def test_a_wrong_email_and_an_unknown_number_get_the_same_answer(world: Any) -> None:
    order = await world.delivered()
    with pytest.raises(NotFound) as wrong_email:
        await withdraw(world, order, email="mallory@example.de")
    with pytest.raises(NotFound) as unknown:
        await start_withdrawal(
            world.transactor,
            order_number="B-2026-999999",
            email="anna@example.de",
            lines=None,
            clock=world.clock,
        )
    assert str(wrong_email.value) == f"no order {order.number!r}"
    assert str(unknown.value) == "no order 'B-2026-999999'"
    assert world.db.rows("withdrawals") == []


async def test_an_unknown_withdrawal_is_not_found(world: Any) -> None:
    with pytest.raises(NotFound, match="no withdrawal 'nope'"):
        await confirm_withdrawal(world.transactor, "nope", world.clock)


async def test_on_day_15_the_withdrawal_is_refused_with_its_deadline(world: Any) -> None:
    order = await world.delivered()
    world.clock.set(DAY_15)
    with pytest.raises(DeadlinePassed) as caught:
        await withdraw(world, order)
    # the problem's deadline is written in UTC (the kit's one form of a moment)
    assert caught.value.details == {
        "current_state": "delivered",
        "deadline": "2026-06-17T21:59:59.999000Z",
    }
    assert caught.value.title == "Withdrawal period ended"
    assert "withdrawal period ended" in str(caught.value)
    assert world.db.rows("withdrawals") == []


async def test_the_declaration_is_checked_against_its_own_moment(world: Any) -> None:
    order = await world.delivered()
    world.clock.set(DAY_14_LATE)
    pending = await withdraw(world, order)
    world.new_events()
    world.clock.set(DAY_15)
    with pytest.raises(DeadlinePassed):
        await confirm_withdrawal(world.transactor, pending.id, world.clock)
    assert stored_withdrawal(world).status == "pending"  # nothing was kept
    assert world.db.rows("returns") == [] and world.new_events() == []


async def test_a_cancelled_order_cannot_be_withdrawn_from(world: Any) -> None:
    # issue 10 point 7 changed this test: a confirmed order not yet shipped can now be
    # withdrawn from (it is cancelled, test_withdrawal_before_shipment.py); a closed one
    # cannot
    order = await world.confirmed()
    await cancel_order(
        world.transactor, order.id, reason="x", cancelled_by="merchant", clock=world.clock
    )
    with pytest.raises(IllegalTransition) as caught:
        await withdraw(world, order)
    assert caught.value.current_state == "cancelled"
    assert str(caught.value) == f"cannot withdraw from order {order.number}: it is cancelled"


# ------------------------------------------------------------------ merchant returns


async def test_a_late_withdrawal_needs_an_override_with_a_note(world: Any) -> None:
    order = await world.delivered()
    world.clock.set(DAY_15)
    with pytest.raises(DeadlinePassed):
        await merchant_return(world, order, kind="withdrawal")
    with pytest.raises(Invalid) as no_note:
        await merchant_return(world, order, kind="withdrawal", override_deadline=True, note=" ")
    [problem] = no_note.value.problems
    assert (problem.loc, problem.type, problem.msg) == (
        ("note",),
        "missing",
        "an override needs a note",
    )
    assert world.db.rows("returns") == []

    note = "Widerruf per Brief am 14. Tag eingegangen"
    r = await merchant_return(world, order, kind="withdrawal", override_deadline=True, note=note)
    assert (r.withdrawal, r.deadline, r.note) == (True, None, note)
    timeline = world.order(order.id).timeline[-1]
    assert timeline.event == "return_requested"
    assert timeline.details == {
        "return_id": r.id,
        "kind": "withdrawal",
        "deadline_overridden": note,
    }
    [requested] = world.db.events(ReturnRequested)
    assert requested.withdrawal is True


async def test_the_note_is_checked_before_the_order_is_looked_up(world: Any) -> None:
    with pytest.raises(Invalid):
        await request_return(
            world.transactor,
            RequestReturn("nope", [(1, 1, None)], "withdrawal", override_deadline=True),
            world.clock,
        )
    with pytest.raises(NotFound, match="no order 'nope'"):
        await request_return(
            world.transactor, RequestReturn("nope", [(1, 1, None)], "goodwill"), world.clock
        )


async def test_goodwill_needs_shipped_goods_and_takes_each_piece_once(world: Any) -> None:
    unshipped = await world.confirmed()
    with pytest.raises(IllegalTransition) as caught:
        await merchant_return(world, unshipped)
    assert str(caught.value) == (
        f"cannot take back goods of order {unshipped.number}: it is confirmed"
    )
    order = await world.delivered()
    world.clock.set(DAY_15)  # goodwill has no period
    r = await merchant_return(world, order, lines=[(1, 2, "defect")])
    assert (r.withdrawal, r.kind, r.deadline) == (False, "goodwill", None)
    with pytest.raises(OrderError) as twice:
        await merchant_return(world, order, lines=[(1, 1, None)])
    assert twice.value.field == ("lines", 0, "quantity")


# ------------------------------------------------------------------ receipt and refund


async def test_the_receipt_restocks_and_refunds_the_whole_order_with_standard_shipping(
    world: Any,
) -> None:
    await world.shipping_method("standard", "4.16")
    await world.shipping_method("express", "8.40")
    order = await world.delivered(shipping_method="express")
    pending = await withdraw(world, order)
    r = await confirm_withdrawal(world.transactor, pending.id, world.clock)
    world.new_events()

    settled = await receive_return(
        world.transactor,
        r.id,
        [(1, 2, "as_new", "restock"), (2, 1, "damaged", "write_off")],
        world.clock,
    )
    assert settled.status == "completed"
    assert settled.refund is not None
    # goods 23.80 + 5.95, express 10.00 capped at standard 4.95 (§357 (2) BGB)
    assert settled.refund.amount == Decimal("34.70")
    assert settled.refund.includes_shipping is True
    received, completed = world.new_events()
    assert isinstance(received, ReturnReceived) and isinstance(completed, ReturnCompleted)
    assert [(x.sku, x.quantity, x.disposition) for x in received.lines] == [
        ("TEE", 2, "restock"),
        ("MUG", 1, "write_off"),
    ]
    assert (completed.refund_amount, completed.currency, completed.includes_shipping) == (
        Decimal("34.70"),
        "EUR",
        True,
    )
    assert completed.completed_at == world.clock() == received.received_at
    events = [e.event for e in world.order(order.id).timeline[-2:]]
    assert events == ["return_received", "refund_decided"]


async def test_pieces_that_did_not_arrive_are_not_refunded_and_can_come_later(
    world: Any,
) -> None:
    # issue 10 point 10 changed this test: a partial receipt no longer completes the
    # return; the merchant closes it (with a reason) to settle what arrived
    order = await world.delivered()
    r = await merchant_return(world, order, lines=[(1, 2, None)])
    partial = await receive_return(
        world.transactor, r.id, [(1, 1, "as_new", "restock")], world.clock
    )
    assert (partial.status, partial.refund) == ("partially_received", None)
    settled = await close_return(world.transactor, r.id, "second piece lost", world.clock)
    assert settled.refund is not None
    assert settled.refund.amount == Decimal("11.90")  # one of two pieces of 23.80
    assert settled.refund.includes_shipping is False
    assert world.order(order.id).returned == {1: 1}
    again = await merchant_return(world, order, lines=[(1, 1, None)])
    assert again.lines[0].quantity == 1


async def test_a_return_is_received_once(world: Any) -> None:
    order = await world.delivered()
    r = await merchant_return(world, order)
    await receive_return(world.transactor, r.id, [(1, 1, "as_new", "restock")], world.clock)
    world.new_events()
    with pytest.raises(IllegalTransition) as caught:
        await receive_return(world.transactor, r.id, [(1, 1, "as_new", "restock")], world.clock)
    assert caught.value.current_state == "completed"
    assert str(caught.value) == f"cannot receive return {r.id}: it is completed"
    assert world.new_events() == []


async def test_an_unknown_return_and_lines_not_announced_are_refused(world: Any) -> None:
    with pytest.raises(NotFound, match="no return 'nope'"):
        await receive_return(world.transactor, "nope", [(1, 1, "as_new", "restock")], world.clock)
    order = await world.delivered()
    r = await merchant_return(world, order)
    with pytest.raises(OrderError) as caught:
        await receive_return(world.transactor, r.id, [(2, 1, "as_new", "restock")], world.clock)
    assert caught.value.field == ("lines", 0, "line_no")
    [stored] = world.db.rows("returns")
    assert stored.status == "requested"


async def test_the_withdrawal_clock_is_berlins(world: Any) -> None:
    order = await world.delivered()
    world.clock.set(datetime(2026, 6, 17, 21, 59, 59, 999000, tzinfo=UTC))  # the last moment
    pending = await withdraw(world, order)
    r = await confirm_withdrawal(world.transactor, pending.id, world.clock)
    assert r.deadline is not None and r.deadline.isoformat() == DEADLINE
