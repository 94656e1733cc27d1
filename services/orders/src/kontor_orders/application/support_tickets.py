"""Support's tickets on the order's timeline (issue 14: "TicketResolved for a complaint
ticket is visible on the order's timeline").

A complaint's ticket that support solved puts ``complaint_ticket_resolved`` with the
ticket's id on its order's timeline, so whoever looks at the order sees that the
customer's complaint was answered. The resolution's text is personal (sealed, read as a
placeholder here) and stays with support. Nothing is published: the order did not change.
"""

from __future__ import annotations

import logging

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.support import TicketResolved

from kontor_orders.application.unit_of_work import OrdersUnitOfWork

__all__ = ["on_ticket_resolved"]

log = logging.getLogger(__name__)


async def on_ticket_resolved(event: TicketResolved, uow: OrdersUnitOfWork, env: Envelope) -> None:
    if event.category != "complaint" or event.order_id is None:
        return  # other tickets are support's business, not the order's
    order = await uow.orders.get(event.order_id)
    if order is None:  # a ticket names an order this service does not hold: nothing to show
        log.warning("ticket %s names unknown order %s", event.ticket_id, event.order_id)
        return
    order.note("complaint_ticket_resolved", event.resolved_at, ticket_id=event.ticket_id)
    await uow.orders.save(order)  # a note records no event: nothing to publish
