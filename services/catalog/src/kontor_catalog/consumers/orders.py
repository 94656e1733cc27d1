"""Subscriptions on the orders service's topics: reservations and restocking."""

from __future__ import annotations

from kontor_contracts.events.orders import (
    OrderCancelled,
    OrderPlaced,
    OrderRejected,
    OrderShipped,
    ReturnReceived,
)
from kontor_servicekit.consumer import Subscription

from kontor_catalog.application import stock

RESERVATIONS = Subscription(
    purpose="reservations",
    description="Reserves the stock of every placed order (all lines or none), "
    "releases it when the order is cancelled or rejected, books shipments out of it",
    handlers={
        OrderPlaced: stock.on_order_placed,
        OrderCancelled: stock.on_order_cancelled,
        OrderRejected: stock.on_order_rejected,
        OrderShipped: stock.on_order_shipped,
    },
)

RESTOCKING = Subscription(
    purpose="restocking",
    description="Puts returned goods marked 'restock' back on hand",
    handlers={ReturnReceived: stock.on_return_received},
)
