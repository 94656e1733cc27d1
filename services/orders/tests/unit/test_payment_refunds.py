"""Billing's PaymentRefunded takes the refunded money off what the order has been paid."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.events.billing import PaymentReceived, PaymentRefunded
from kontor_orders.application.order_life import on_payment_received, on_payment_refunded
from kontor_servicekit.domain_errors import Conflict
from kontor_servicekit.fakes import envelope_of

pytestmark = pytest.mark.unit


def refund(
    world: Any, order_id: str, amount: str, refund_id: str = "re-1", currency: str = "EUR"
) -> PaymentRefunded:
    return PaymentRefunded(
        payment_id=refund_id,
        order_id=order_id,
        amount=Decimal(amount),
        currency=currency,
        method="card",
        refunded_at=world.clock(),
    )


async def paid(world: Any) -> Any:
    order = await world.confirmed()  # gross 29.75
    await world.deliver(
        on_payment_received,
        PaymentReceived(
            payment_id="p-1",
            order_id=order.id,
            amount=Decimal("29.75"),
            currency="EUR",
            method="card",
            received_at=world.clock(),
        ),
    )
    return order


async def test_a_refund_lowers_amount_paid_and_shows_on_the_timeline(world: Any) -> None:
    order = await paid(world)
    world.new_events()
    await world.deliver(on_payment_refunded, refund(world, order.id, "10.00"))
    stored = world.order(order.id)
    assert stored.amount_paid == Decimal("19.75")
    assert stored.status == "paid"
    last = stored.timeline[-1]
    assert (last.event, last.details) == (
        "payment_refunded",
        {"refund_id": "re-1", "amount": "10.00"},
    )
    assert world.new_events() == []


async def test_the_same_refund_counts_once(world: Any) -> None:
    order = await paid(world)
    event = refund(world, order.id, "10.00")
    envelope = envelope_of(event)
    await world.deliver(on_payment_refunded, event, envelope)
    await world.deliver(on_payment_refunded, event, envelope)  # redelivered: the inbox
    await world.deliver(on_payment_refunded, refund(world, order.id, "10.00"))  # republished
    stored = world.order(order.id)
    assert stored.amount_paid == Decimal("19.75")
    assert [e.event for e in stored.timeline].count("payment_refunded") == 1
    await world.deliver(on_payment_refunded, refund(world, order.id, "5.00", "re-2"))
    assert world.order(order.id).amount_paid == Decimal("14.75")


async def test_a_refund_beyond_what_was_paid_stops_at_zero(world: Any) -> None:
    order = await paid(world)
    await world.deliver(on_payment_refunded, refund(world, order.id, "40.00"))
    stored = world.order(order.id)
    assert stored.amount_paid == Decimal("0")
    assert stored.timeline[-1].details["beyond_paid"] == "10.25"


async def test_a_refund_in_another_currency_is_refused(world: Any) -> None:
    order = await paid(world)
    with pytest.raises(Conflict, match="refund in CHF for an order in EUR"):
        await world.deliver(on_payment_refunded, refund(world, order.id, "5.00", currency="CHF"))
    assert world.order(order.id).amount_paid == Decimal("29.75")
