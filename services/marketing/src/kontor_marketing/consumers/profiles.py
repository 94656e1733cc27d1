"""Subscription ``marketing.profiles``: orders' and support's events folded into customer
profiles (one group, one projection: a rebuild replays both)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.orders import (
    CartAbandoned,
    OrderCancelled,
    OrderDelivered,
    OrderPlaced,
    OrderRejected,
    ReturnCompleted,
)
from kontor_contracts.events.support import TicketOpened, TicketResolved, TicketUpdated
from kontor_servicekit.clock import Clock, utc_now
from kontor_servicekit.consumer import Subscription

from kontor_marketing.application import profiles as p
from kontor_marketing.application.flows import CartFlow, Flow
from kontor_marketing.store.early_refunds import EARLY_REFUNDS
from kontor_marketing.store.profiles import PROFILES
from kontor_marketing.store.unit_of_work import MongoMarketingUnitOfWork


def profiles(
    attribution_window: timedelta = p.ATTRIBUTION_WINDOW,
    cart_flow: CartFlow | None = None,
    clock: Clock = utc_now,
    review_flow: Flow | None = None,
) -> Subscription:
    async def placed(event: OrderPlaced, uow: Any, env: Envelope) -> None:
        await p.on_order_placed(event, uow, env, window=attribution_window)

    async def abandoned(event: CartAbandoned, uow: Any, env: Envelope) -> None:
        await p.on_cart_abandoned(event, uow, env, flow=cart_flow, now=clock())

    async def delivered(event: OrderDelivered, uow: Any, env: Envelope) -> None:
        await p.on_order_delivered(event, uow, env, flow=review_flow, now=clock())

    return Subscription(
        purpose="profiles",
        description="Folds orders, cancellations, returns, abandoned carts and support "
        "tickets into profiles and keeps segment membership live; deliveries queue the "
        "review request",
        projection=(PROFILES, EARLY_REFUNDS),
        handlers={
            OrderPlaced: placed,
            OrderCancelled: p.on_order_cancelled,
            OrderRejected: p.on_order_rejected,
            ReturnCompleted: p.on_return_completed,
            CartAbandoned: abandoned,
            OrderDelivered: delivered,
            TicketOpened: p.on_ticket_opened,
            TicketUpdated: p.on_ticket_updated,
            TicketResolved: p.on_ticket_resolved,
        },
        unit_of_work=MongoMarketingUnitOfWork,
        unseal=True,  # keyed by the customer's e-mail, as the consents are (ADR 0036);
        # TicketOpened's customer is sealed like an order's
    )
