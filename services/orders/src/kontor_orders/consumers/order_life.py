"""Subscriptions that drive the order's life: reservations and payments.

Their handlers take the time of the event (when the catalog reserved, when the money
arrived), not the clock: a late delivery does not move when it happened.
"""

from __future__ import annotations

from kontor_contracts.events.billing import PaymentReceived, PaymentRefunded
from kontor_contracts.events.catalog import (
    ReplacementStockBooked,
    ReplacementStockRejected,
    StockReservationRejected,
    StockReserved,
)
from kontor_servicekit.consumer import Subscription

from kontor_orders.application import complaints, order_life
from kontor_orders.store.unit_of_work import MongoOrdersUnitOfWork, prefetch_orders


def reservations() -> Subscription:
    return Subscription(
        purpose="reservations",
        description="Confirms or rejects placed orders as the catalog reserves their stock, "
        "and resolves or reopens complaints as it books out their replacements",
        handlers={
            StockReserved: order_life.on_stock_reserved,
            StockReservationRejected: order_life.on_stock_reservation_rejected,
            ReplacementStockBooked: complaints.on_replacement_stock_booked,
            ReplacementStockRejected: complaints.on_replacement_stock_rejected,
        },
        unit_of_work=MongoOrdersUnitOfWork,
        prefetch=prefetch_orders,  # one read of the batch's orders (ADR 0150)
    )


def payments() -> Subscription:
    return Subscription(
        purpose="payments",
        description="Marks orders paid when billing reports the money arrived, and takes "
        "refunded money off what was paid",
        handlers={
            PaymentReceived: order_life.on_payment_received,
            PaymentRefunded: order_life.on_payment_refunded,
        },
        unit_of_work=MongoOrdersUnitOfWork,
        prefetch=prefetch_orders,
    )
