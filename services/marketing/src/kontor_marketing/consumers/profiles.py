"""Subscription ``marketing.profiles``: orders' events folded into customer profiles."""

from __future__ import annotations

from kontor_contracts.events.orders import (
    CartAbandoned,
    OrderCancelled,
    OrderPlaced,
    OrderRejected,
    ReturnCompleted,
)
from kontor_servicekit.consumer import Subscription

from kontor_marketing.application import profiles as p
from kontor_marketing.store.profiles import PROFILES
from kontor_marketing.store.unit_of_work import MongoMarketingUnitOfWork


def profiles() -> Subscription:
    return Subscription(
        purpose="profiles",
        description="Folds orders, cancellations, returns and abandoned carts into profiles "
        "and keeps segment membership live",
        projection=(PROFILES,),
        handlers={
            OrderPlaced: p.on_order_placed,
            OrderCancelled: p.on_order_cancelled,
            OrderRejected: p.on_order_rejected,
            ReturnCompleted: p.on_return_completed,
            CartAbandoned: p.on_cart_abandoned,
        },
        unit_of_work=MongoMarketingUnitOfWork,
        unseal=True,  # keyed by the customer's e-mail, as the consents are (ADR 0036)
    )
