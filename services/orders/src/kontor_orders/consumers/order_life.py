"""Subscriptions that drive the order's life: reservations and payments."""

from __future__ import annotations

from kontor_contracts.events.billing import PaymentReceived
from kontor_contracts.events.catalog import StockReservationRejected, StockReserved
from kontor_servicekit.consumer import Subscription

from kontor_orders.application import order_life

RESERVATIONS = Subscription(
    purpose="reservations",
    description="Confirms or rejects placed orders as the catalog reserves their stock",
    handlers={
        StockReserved: order_life.on_stock_reserved,
        StockReservationRejected: order_life.on_stock_reservation_rejected,
    },
)

PAYMENTS = Subscription(
    purpose="payments",
    description="Marks orders paid when billing reports the money arrived",
    handlers={PaymentReceived: order_life.on_payment_received},
)
