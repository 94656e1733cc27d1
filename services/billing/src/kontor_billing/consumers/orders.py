"""Subscription ``billing.invoicing``: an invoice for every placed order."""

from __future__ import annotations

from functools import partial

from kontor_contracts.events.orders import OrderPlaced
from kontor_servicekit.clock import Clock
from kontor_servicekit.consumer import Subscription

from kontor_billing.application.invoicing import on_order_placed
from kontor_billing.store.unit_of_work import MongoBillingUnitOfWork


def invoicing(clock: Clock) -> Subscription:
    return Subscription(
        purpose="invoicing",
        description="Issues the invoice of every placed order",
        handlers={OrderPlaced: partial(on_order_placed, clock=clock)},
        unit_of_work=MongoBillingUnitOfWork,
    )
