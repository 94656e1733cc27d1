"""The order's life over the in-memory unit of work: the reservation saga, payments,
cancellation, shipping and delivery, with the events each emits."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.events.billing import PaymentReceived
from kontor_contracts.events.catalog import (
    ReservationLine,
    ReservationShortfall,
    StockReservationRejected,
    StockReserved,
)
from kontor_contracts.events.orders import (
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderRejected,
    OrderShipped,
)
from kontor_orders.application.order_life import (
    cancel_order,
    deliver_order,
    on_payment_received,
    on_stock_reservation_rejected,
    on_stock_reserved,
    ship_order,
)
from kontor_orders.domain.order import OrderError
from kontor_servicekit.domain_errors import Conflict, IllegalTransition, NotFound
from kontor_servicekit.fakes import envelope_of

pytestmark = pytest.mark.unit


def reserved(order_id: str) -> StockReserved:
    return StockReserved(
        order_id=order_id, lines=[ReservationLine(sku="TEE", quantity=2, warehouse="main")]
    )


def rejected(order_id: str) -> StockReservationRejected:
    return StockReservationRejected(
        order_id=order_id,
        reasons=[ReservationShortfall(sku="TEE", requested=2, available=1)],
    )


def payment(world: Any, order_id: str, amount: str, currency: str = "EUR") -> PaymentReceived:
    return PaymentReceived(
        payment_id=f"p-{amount}",
        order_id=order_id,
        amount=Decimal(amount),
        currency=currency,
        method="paypal",
        received_at=world.clock(),
    )


async def ship(
    world: Any, order_id: str, lines: list[tuple[int, int]], carrier: str = "DHL"
) -> Any:
    return await ship_order(
        world.transactor,
        order_id,
        carrier=carrier,
        tracking_number=None,
        lines=lines,
        clock=world.clock,
    )


# ------------------------------------------------------------------ the reservation saga


async def test_reserved_stock_confirms_the_order(world: Any) -> None:
    order = await world.place()
    world.new_events()
    envelope = envelope_of(reserved(order.id), occurred_at=world.clock() + timedelta(minutes=1))
    await world.deliver(on_stock_reserved, reserved(order.id), envelope)
    stored = world.order(order.id)
    assert stored.status == "confirmed"
    assert [e.event for e in stored.timeline] == ["placed", "confirmed"]
    [confirmed] = world.new_events()
    assert isinstance(confirmed, OrderConfirmed)
    assert (confirmed.order_id, confirmed.order_number) == (order.id, order.number)
    assert confirmed.confirmed_at == envelope.occurred_at


async def test_a_second_answer_changes_nothing_and_announces_nothing(world: Any) -> None:
    order = await world.confirmed()
    world.new_events()
    envelope = envelope_of(reserved(order.id))
    assert await world.deliver(on_stock_reserved, reserved(order.id), envelope)
    assert not await world.deliver(on_stock_reserved, reserved(order.id), envelope)  # redelivery
    assert world.new_events() == []
    assert world.order(order.id).status == "confirmed"
    assert [e.event for e in world.order(order.id).timeline] == ["placed", "confirmed"]


async def test_a_rejection_rejects_with_the_shortfalls(world: Any) -> None:
    order = await world.place()
    world.new_events()
    await world.deliver(on_stock_reservation_rejected, rejected(order.id))
    stored = world.order(order.id)
    assert stored.status == "rejected"
    assert stored.timeline[-1].details["details"] == ["TEE: requested 2, available 1"]
    [event] = world.new_events()
    assert isinstance(event, OrderRejected)
    assert (event.reason, event.details) == ("out_of_stock", ["TEE: requested 2, available 1"])


async def test_a_rejection_after_confirmation_stays_visible_but_announces_nothing(
    world: Any,
) -> None:
    order = await world.confirmed()
    world.new_events()
    await world.deliver(on_stock_reservation_rejected, rejected(order.id))
    stored = world.order(order.id)
    assert stored.status == "confirmed"
    assert stored.timeline[-1].event == "reservation_rejected_after_confirmation"
    assert world.new_events() == []


async def test_an_answer_for_an_unknown_order_is_refused(world: Any) -> None:
    with pytest.raises(NotFound, match="no order 'nope'"):
        await world.deliver(on_stock_reserved, reserved("nope"))
    assert world.db.inbox == set()  # nothing was kept: the consumer dead-letters it


# ------------------------------------------------------------------ payments


async def test_payments_add_up_and_make_a_confirmed_order_paid(world: Any) -> None:
    order = await world.confirmed()  # gross 29.75
    world.new_events()
    await world.deliver(on_payment_received, payment(world, order.id, "20.00"))
    assert world.order(order.id).status == "confirmed"
    await world.deliver(on_payment_received, payment(world, order.id, "9.75"))
    stored = world.order(order.id)
    assert (stored.status, stored.amount_paid, stored.paid_at) == (
        "paid",
        Decimal("29.75"),
        world.clock(),
    )
    assert world.new_events() == []  # being paid is no contract event


async def test_a_payment_before_the_reservation_is_applied_on_confirmation(world: Any) -> None:
    order = await world.place()
    await world.deliver(on_payment_received, payment(world, order.id, "29.75"))
    assert world.order(order.id).status == "placed"
    await world.deliver(on_stock_reserved, reserved(order.id))
    stored = world.order(order.id)
    assert stored.status == "paid"
    assert [e.event for e in stored.timeline] == ["placed", "payment_received", "confirmed", "paid"]


async def test_a_payment_in_another_currency_is_refused_and_nothing_kept(world: Any) -> None:
    order = await world.confirmed()
    with pytest.raises(Conflict, match="payment in CHF for an order in EUR"):
        await world.deliver(on_payment_received, payment(world, order.id, "29.75", "CHF"))
    assert world.order(order.id).amount_paid == 0


async def test_a_payment_for_a_cancelled_order_is_a_refund_due(world: Any) -> None:
    order = await world.confirmed()
    await cancel_order(
        world.transactor, order.id, reason="x", cancelled_by="customer", clock=world.clock
    )
    await world.deliver(on_payment_received, payment(world, order.id, "5.00"))
    stored = world.order(order.id)
    assert stored.status == "cancelled"
    assert stored.timeline[-1].event == "refund_due"


# ------------------------------------------------------------------ cancel


async def test_cancel_releases_every_line(world: Any) -> None:
    order = await world.confirmed()
    world.new_events()
    cancelled = await cancel_order(
        world.transactor,
        order.id,
        reason="customer_request",
        cancelled_by="customer",
        clock=world.clock,
    )
    assert cancelled.status == "cancelled" == world.order(order.id).status
    [event] = world.new_events()
    assert isinstance(event, OrderCancelled)
    assert (event.reason, event.cancelled_by) == ("customer_request", "customer")
    assert [(x.sku, x.quantity) for x in event.lines] == [("TEE", 2), ("MUG", 1)]


async def test_cancel_after_shipping_is_refused_and_changes_nothing(world: Any) -> None:
    order = await world.delivered()
    before = world.order(order.id)
    world.new_events()
    with pytest.raises(IllegalTransition) as caught:
        await cancel_order(
            world.transactor, order.id, reason="x", cancelled_by="merchant", clock=world.clock
        )
    assert caught.value.current_state == "delivered"
    assert str(caught.value) == f"cannot cancel order {order.number}: it is delivered"
    assert world.order(order.id) == before
    assert world.new_events() == []


async def test_cancel_of_an_unknown_order_is_not_found(world: Any) -> None:
    with pytest.raises(NotFound, match="no order 'nope'"):
        await cancel_order(
            world.transactor, "nope", reason="x", cancelled_by="merchant", clock=world.clock
        )


# ------------------------------------------------------------------ ship and deliver


async def test_a_partial_then_the_complete_shipment(world: Any) -> None:
    order = await world.confirmed()
    world.new_events()
    first = await ship(world, order.id, [(1, 1)])
    assert first.status == "partially_shipped"
    world.clock.advance(timedelta(hours=3))
    second = await ship(world, order.id, [(1, 1), (2, 1)], "DPD")
    assert second.status == "shipped" == world.order(order.id).status
    partial, complete = world.new_events()
    assert isinstance(partial, OrderShipped) and isinstance(complete, OrderShipped)
    assert partial.complete is False and complete.complete is True
    assert [(x.line_no, x.sku, x.quantity) for x in partial.lines] == [(1, "TEE", 1)]
    assert [(x.line_no, x.sku, x.quantity) for x in complete.lines] == [
        (1, "TEE", 1),
        (2, "MUG", 1),
    ]
    assert (complete.carrier, complete.shipped_at) == ("DPD", world.clock())
    assert [s.shipment_id for s in second.shipments] == [partial.shipment_id, complete.shipment_id]


async def test_shipping_more_than_is_left_is_refused(world: Any) -> None:
    order = await world.confirmed()
    with pytest.raises(OrderError) as caught:
        await ship(world, order.id, [(1, 3)])
    assert caught.value.field == ("lines", 0, "quantity")
    assert world.order(order.id).shipments == []


async def test_shipping_a_placed_order_is_refused(world: Any) -> None:
    order = await world.place()
    with pytest.raises(IllegalTransition) as caught:
        await ship(world, order.id, [(1, 1)])
    assert caught.value.current_state == "placed"


async def test_delivery_defaults_to_now_cut_to_milliseconds(world: Any) -> None:
    order = await world.confirmed()
    await ship(world, order.id, [(1, 2), (2, 1)])
    world.new_events()
    world.clock.advance(timedelta(days=1))
    delivered = await deliver_order(
        world.transactor, order.id, delivered_at=None, clock=world.clock
    )
    assert delivered.delivered_at == world.clock()
    [event] = world.new_events()
    assert isinstance(event, OrderDelivered)
    assert event.delivered_at == world.clock()
    assert event.shipment_id == delivered.shipments[-1].shipment_id


async def test_a_given_delivery_time_loses_its_microseconds(world: Any) -> None:
    order = await world.confirmed()
    await ship(world, order.id, [(1, 2), (2, 1)])
    world.clock.advance(timedelta(days=2))
    at = world.clock() - timedelta(hours=1, microseconds=123_456)
    delivered = await deliver_order(world.transactor, order.id, delivered_at=at, clock=world.clock)
    assert delivered.delivered_at == at.replace(microsecond=at.microsecond // 1000 * 1000)
    assert world.order(order.id).delivered_at == delivered.delivered_at


async def test_delivery_in_the_future_is_refused(world: Any) -> None:
    order = await world.confirmed()
    await ship(world, order.id, [(1, 2), (2, 1)])
    with pytest.raises(OrderError) as caught:
        await deliver_order(
            world.transactor,
            order.id,
            delivered_at=world.clock() + timedelta(hours=1),
            clock=world.clock,
        )
    assert caught.value.field == ("delivered_at",)
    assert world.order(order.id).status == "shipped"
