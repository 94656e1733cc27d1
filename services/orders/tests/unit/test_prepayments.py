"""Unpaid prepayment orders give their stock back after the days set (issue 10 point 14:
reservations never expired)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.events.billing import PaymentReceived
from kontor_contracts.events.orders import PREPAYMENT_NOT_RECEIVED as CONTRACT_REASON
from kontor_contracts.events.orders import OrderCancelled, OrderPlaced
from kontor_orders.application.order_life import on_payment_received
from kontor_orders.application.prepayments import cancel_unpaid_prepayments
from kontor_orders.domain.order import PREPAYMENT_NOT_RECEIVED
from kontor_servicekit.fakes import envelope_of

pytestmark = pytest.mark.unit

DAYS = 7


async def sweep(world: Any) -> int:
    return await cancel_unpaid_prepayments(world.transactor, days=DAYS, clock=world.clock)


async def test_an_unpaid_prepayment_order_is_cancelled_after_the_days_set(world: Any) -> None:
    order = await world.confirmed(payment_method="prepayment")
    assert isinstance(world.new_events()[0], OrderPlaced)
    world.clock.advance(timedelta(days=DAYS) - timedelta(minutes=1))
    assert await sweep(world) == 0  # not yet
    assert world.new_events() == []
    world.clock.advance(timedelta(minutes=1))
    assert await sweep(world) == 1
    [cancelled] = world.new_events()
    assert isinstance(cancelled, OrderCancelled)
    assert (cancelled.reason, cancelled.cancelled_by) == (PREPAYMENT_NOT_RECEIVED, "system")
    assert [(x.sku, x.quantity) for x in cancelled.lines] == [("TEE", 2), ("MUG", 1)]
    stored = world.order(order.id)
    assert stored.status == "cancelled"
    assert stored.timeline[-1].details == {
        "reason": PREPAYMENT_NOT_RECEIVED,
        "cancelled_by": "system",
    }
    assert await sweep(world) == 0  # once
    assert world.new_events() == []


async def test_paid_invoice_and_unreserved_orders_are_left_alone(world: Any) -> None:
    paid = await world.confirmed(payment_method="prepayment")
    event = PaymentReceived(
        payment_id="p-1",
        order_id=paid.id,
        amount=paid.gross_total,
        currency="EUR",
        method="bank_transfer",
        received_at=world.clock(),
    )
    await world.deliver(on_payment_received, event, envelope_of(event))
    invoice = await world.confirmed(payment_method="invoice")
    unknown = await world.confirmed()
    waiting = await world.place(payment_method="prepayment")  # not reserved (yet)
    world.clock.advance(timedelta(days=30))
    world.new_events()
    assert await sweep(world) == 0
    assert world.new_events() == []
    assert [world.order(o.id).status for o in (paid, invoice, unknown, waiting)] == [
        "paid",
        "confirmed",
        "confirmed",
        "placed",
    ]


async def test_a_partial_payment_does_not_keep_the_stock(world: Any) -> None:
    order = await world.confirmed(payment_method="prepayment")
    event = PaymentReceived(
        payment_id="p-1",
        order_id=order.id,
        amount=Decimal("1.00"),
        currency="EUR",
        method="bank_transfer",
        received_at=world.clock(),
    )
    await world.deliver(on_payment_received, event, envelope_of(event))
    world.clock.advance(timedelta(days=DAYS))
    assert await sweep(world) == 1
    assert world.order(order.id).status == "cancelled"  # refund_due is on its timeline


def test_the_reason_is_the_one_the_catalog_reads() -> None:
    assert PREPAYMENT_NOT_RECEIVED == CONTRACT_REASON


async def test_the_payment_method_is_kept_and_announced(world: Any) -> None:
    order = await world.place(payment_method="prepayment")
    [placed] = world.new_events()
    assert isinstance(placed, OrderPlaced) and placed.payment_method == "prepayment"
    assert world.order(order.id).payment_method == "prepayment"
