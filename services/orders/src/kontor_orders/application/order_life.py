"""The order's life after placement: the reservation saga, payment, cancellation,
shipping and delivery.

The saga place -> reserve -> confirm | reject is driven by events only: OrderPlaced
goes out through the outbox, the catalog answers on ``catalog.reservation.v1``, and
the handlers below run inside the inbox transaction, so every step survives a
restart (its state is the order document; its progress is the committed offsets
and the outbox).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.billing import PaymentReceived, PaymentRefunded
from kontor_contracts.events.catalog import StockReservationRejected, StockReserved
from kontor_servicekit.clock import Clock
from kontor_servicekit.uow import Transactor

from kontor_orders.application.contract_events import publish_order
from kontor_orders.application.distance_sales import take_back_distance_sale
from kontor_orders.application.unit_of_work import OrdersUnitOfWork
from kontor_orders.domain.order import Order, UnknownOrder


async def load_order(uow: OrdersUnitOfWork, order_id: str) -> Order:
    """The order, or UnknownOrder (404; for an event it is dead-lettered at once:
    reservations and payments only exist for orders this service announced)."""
    order = await uow.orders.get(order_id)
    if order is None:
        raise UnknownOrder(order_id)
    return order


async def _save(uow: OrdersUnitOfWork, order: Order) -> None:
    await take_back_distance_sale(uow, order)
    await uow.orders.save(order)
    publish_order(uow, order)


# ------------------------------------------------------------------ event handlers


async def on_stock_reserved(event: StockReserved, uow: OrdersUnitOfWork, env: Envelope) -> None:
    order = await load_order(uow, event.order_id)
    order.confirm(env.occurred_at)
    await _save(uow, order)


async def on_stock_reservation_rejected(
    event: StockReservationRejected, uow: OrdersUnitOfWork, env: Envelope
) -> None:
    order = await load_order(uow, event.order_id)
    details = [f"{r.sku}: requested {r.requested}, available {r.available}" for r in event.reasons]
    order.reject("out_of_stock", details, env.occurred_at)
    await _save(uow, order)


async def on_payment_received(event: PaymentReceived, uow: OrdersUnitOfWork, env: Envelope) -> None:
    order = await load_order(uow, event.order_id)
    order.record_payment(event.payment_id, event.amount, event.currency, event.received_at)
    await _save(uow, order)


async def on_payment_refunded(event: PaymentRefunded, uow: OrdersUnitOfWork, env: Envelope) -> None:
    order = await load_order(uow, event.order_id)
    order.record_refund(event.payment_id, event.amount, event.currency, event.refunded_at)
    await _save(uow, order)


# ------------------------------------------------------------------ commands (HTTP)


async def _change(
    transactor: Transactor[OrdersUnitOfWork], order_id: str, change: Callable[[Order], None]
) -> Order:
    async def work(uow: OrdersUnitOfWork) -> Order:
        order = await load_order(uow, order_id)
        change(order)
        await _save(uow, order)
        return order

    return await transactor.run(work)


async def cancel_order(
    transactor: Transactor[OrdersUnitOfWork],
    order_id: str,
    *,
    reason: str,
    cancelled_by: str,
    clock: Clock,
) -> Order:
    """Cancel before shipping: OrderCancelled with the lines the catalog releases."""
    now = clock()
    return await _change(transactor, order_id, lambda o: o.cancel(reason, cancelled_by, now))


async def ship_order(
    transactor: Transactor[OrdersUnitOfWork],
    order_id: str,
    *,
    carrier: str,
    tracking_number: str | None,
    lines: list[tuple[int, int]],
    clock: Clock,
) -> Order:
    """Record a (partial) shipment: OrderShipped, ``complete`` with the last piece."""
    now = clock()
    shipment_id = str(uuid.uuid4())
    return await _change(
        transactor,
        order_id,
        lambda o: o.ship(
            shipment_id=shipment_id,
            carrier=carrier,
            tracking_number=tracking_number,
            lines=lines,
            now=now,
        ),
    )


def _to_millis(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


async def deliver_order(
    transactor: Transactor[OrdersUnitOfWork],
    order_id: str,
    *,
    delivered_at: datetime | None,
    clock: Clock,
) -> Order:
    """The carrier delivered (``delivered_at``, default now): OrderDelivered; the
    withdrawal period starts."""
    now = clock()
    # BSON keeps milliseconds: cut here so the answer and a later GET agree
    at = _to_millis(delivered_at or now)
    return await _change(transactor, order_id, lambda o: o.deliver(at, now))
