"""Subscription ``orders.quote-orders``: an accepted quote (billing) becomes an order."""

from __future__ import annotations

from functools import partial

from kontor_contracts.events.billing import QuoteAccepted
from kontor_servicekit.consumer import Subscription

from kontor_orders.application.quote_orders import on_quote_accepted
from kontor_orders.application.unit_of_work import OrderNumbers
from kontor_orders.store.unit_of_work import MongoOrdersUnitOfWork


def quote_orders(numbers: OrderNumbers) -> Subscription:
    return Subscription(
        purpose="quote-orders",
        description="Places the order of an accepted quote at its quoted prices, once per quote",
        handlers={QuoteAccepted: partial(on_quote_accepted, numbers=numbers)},
        unit_of_work=MongoOrdersUnitOfWork,
        unseal=True,  # the order is the buyer's (ADR 0036)
    )
