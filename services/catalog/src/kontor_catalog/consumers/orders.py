"""Subscriptions on the orders service's topics: reservations and restocking."""

from __future__ import annotations

from functools import partial

from kontor_contracts.events.orders import (
    OrderCancelled,
    OrderPlaced,
    OrderRejected,
    OrderShipped,
    ReplacementRequested,
    ReturnReceived,
)
from kontor_servicekit.clock import Clock
from kontor_servicekit.consumer import Subscription

from kontor_catalog.application import stock
from kontor_catalog.store.unit_of_work import MongoCatalogUnitOfWork


def reservations(clock: Clock) -> Subscription:
    return Subscription(
        purpose="reservations",
        description="Reserves the stock of every placed order (all lines or none), "
        "releases it when the order is cancelled or rejected, books shipments out of it, "
        "and reserves and books out the replacements of complaints",
        handlers={
            OrderPlaced: partial(stock.on_order_placed, clock=clock),
            OrderCancelled: partial(stock.on_order_cancelled, clock=clock),
            OrderRejected: partial(stock.on_order_rejected, clock=clock),
            OrderShipped: partial(stock.on_order_shipped, clock=clock),
            ReplacementRequested: partial(stock.on_replacement_requested, clock=clock),
        },
        unit_of_work=MongoCatalogUnitOfWork,
    )


def restocking(clock: Clock) -> Subscription:
    return Subscription(
        purpose="restocking",
        description="Puts returned goods marked 'restock' back on hand",
        handlers={ReturnReceived: partial(stock.on_return_received, clock=clock)},
        unit_of_work=MongoCatalogUnitOfWork,
    )
