"""Subscription ``orders.support-tickets``: support's solved complaint tickets on the
order's timeline."""

from __future__ import annotations

from kontor_contracts.events.support import TicketResolved
from kontor_servicekit.consumer import Subscription

from kontor_orders.application.support_tickets import on_ticket_resolved
from kontor_orders.store.unit_of_work import MongoOrdersUnitOfWork


def support_tickets() -> Subscription:
    return Subscription(
        purpose="support-tickets",
        description="Puts a solved complaint ticket of support on its order's timeline",
        handlers={TicketResolved: on_ticket_resolved},
        unit_of_work=MongoOrdersUnitOfWork,
    )
