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
from collections.abc import Awaitable, Callable
from datetime import datetime

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.billing import PaymentReceived
from kontor_contracts.events.catalog import StockReservationRejected, StockReserved
from kontor_contracts.events.common import SkuQuantity
from kontor_contracts.events.orders import (
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderRejected,
    OrderShipped,
    ShippedLine,
)
from kontor_servicekit.consumer import PermanentError
from kontor_servicekit.store import Store, Transaction

from kontor_orders.domain.order import Order
from kontor_orders.store.orders import OrderRepository


class UnknownOrder(LookupError):
    pass


async def _load(tx: Transaction, order_id: str) -> Order:
    order = await OrderRepository(tx).get(order_id)
    if order is None:
        raise UnknownOrder(order_id)
    return order


# ------------------------------------------------------------------ event handlers


async def _for_order(tx: Transaction, order_id: str) -> Order:
    try:
        return await _load(tx, order_id)
    except UnknownOrder as exc:
        # Reservations and payments only exist for orders this service announced.
        raise PermanentError(f"no order {order_id!r}") from exc


async def on_stock_reserved(event: StockReserved, tx: Transaction, env: Envelope) -> None:
    order = await _for_order(tx, event.order_id)
    if order.confirm(env.occurred_at):
        tx.emit(
            OrderConfirmed(
                order_id=order.id, order_number=order.number, confirmed_at=env.occurred_at
            ),
            aggregate_id=order.id,
        )
    await OrderRepository(tx).save(order)


async def on_stock_reservation_rejected(
    event: StockReservationRejected, tx: Transaction, env: Envelope
) -> None:
    order = await _for_order(tx, event.order_id)
    details = [f"{r.sku}: requested {r.requested}, available {r.available}" for r in event.reasons]
    if order.reject("out_of_stock", details, env.occurred_at):
        tx.emit(
            OrderRejected(
                order_id=order.id,
                order_number=order.number,
                reason="out_of_stock",
                details=details,
            ),
            aggregate_id=order.id,
        )
    await OrderRepository(tx).save(order)


async def on_payment_received(event: PaymentReceived, tx: Transaction, env: Envelope) -> None:
    order = await _for_order(tx, event.order_id)
    if event.currency != order.currency:
        raise PermanentError(f"payment in {event.currency} for an order in {order.currency}")
    order.record_payment(event.payment_id, event.amount, event.received_at)
    await OrderRepository(tx).save(order)


# ------------------------------------------------------------------ commands (HTTP)


async def _change(
    store: Store, order_id: str, change: Callable[[Order, Transaction], None]
) -> Order:
    async def work(tx: Transaction) -> Order:
        order = await _load(tx, order_id)
        change(order, tx)
        await OrderRepository(tx).save(order)
        return order

    return await store.transaction(work)


def cancel_order(
    store: Store, order_id: str, *, reason: str, cancelled_by: str, now: datetime
) -> Awaitable[Order]:
    def change(order: Order, tx: Transaction) -> None:
        lines = order.cancel(reason, cancelled_by, now)
        tx.emit(
            OrderCancelled(
                order_id=order.id,
                order_number=order.number,
                reason=reason,
                cancelled_by=cancelled_by,
                lines=[SkuQuantity(sku=sku, quantity=q) for sku, q in lines],
            ),
            aggregate_id=order.id,
        )

    return _change(store, order_id, change)


def ship_order(
    store: Store,
    order_id: str,
    *,
    carrier: str,
    tracking_number: str | None,
    lines: list[tuple[int, int]],
    now: datetime,
) -> Awaitable[Order]:
    shipment_id = str(uuid.uuid4())

    def change(order: Order, tx: Transaction) -> None:
        shipment = order.ship(
            shipment_id=shipment_id,
            carrier=carrier,
            tracking_number=tracking_number,
            lines=lines,
            now=now,
        )
        by_no = {line.line_no: line for line in order.lines}
        tx.emit(
            OrderShipped(
                order_id=order.id,
                shipment_id=shipment.shipment_id,
                carrier=carrier,
                tracking_number=tracking_number,
                lines=[
                    ShippedLine(line_no=n, sku=by_no[n].sku, quantity=q) for n, q in shipment.lines
                ],
                complete=order.completely_shipped,
                shipped_at=now,
            ),
            aggregate_id=order.id,
        )

    return _change(store, order_id, change)


def deliver_order(
    store: Store, order_id: str, *, delivered_at: datetime, now: datetime
) -> Awaitable[Order]:
    def change(order: Order, tx: Transaction) -> None:
        order.deliver(delivered_at, now)
        last = order.shipments[-1].shipment_id if order.shipments else None
        tx.emit(
            OrderDelivered(order_id=order.id, delivered_at=delivered_at, shipment_id=last),
            aggregate_id=order.id,
        )

    return _change(store, order_id, change)
