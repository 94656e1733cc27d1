"""Subscription ``billing.invoicing``: an invoice for every placed order."""

from __future__ import annotations

from kontor_contracts.events.orders import OrderPlaced
from kontor_servicekit.consumer import Subscription

from kontor_billing.application.invoicing import on_order_placed

INVOICING = Subscription(
    purpose="invoicing",
    description="Issues the invoice of every placed order",
    handlers={OrderPlaced: on_order_placed},
)
