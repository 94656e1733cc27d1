"""Events owned by the support service: customer tickets."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from ..envelope import Event
from ..personal import Personal
from .common import Customer, Id

__all__ = ["TicketOpened", "TicketResolved", "TicketSlaBreached", "TicketUpdated"]


# --- support.ticket.v1 (key: ticket_id) --------------------------------------------


class TicketOpened(Event):
    """A customer contacted us and a ticket was opened."""

    event_type = "TicketOpened"

    ticket_id: Id
    channel: Literal["email", "phone", "chat", "form", "social"]
    customer: Customer
    subject: Annotated[str, Personal("text")] = Field(min_length=1)
    order_id: Id | None = None
    category: str | None = Field(
        default=None, description="e.g. delivery, return, complaint, invoice, product_question"
    )
    priority: str | None = Field(default=None, description="low, normal, high or urgent")
    opened_at: AwareDatetime | None = None


class TicketUpdated(Event):
    """A ticket changed status, priority or assignee."""

    event_type = "TicketUpdated"

    ticket_id: Id
    status: Literal["open", "in_progress", "waiting_for_customer", "resolved", "closed"]
    priority: str | None = None
    assignee: str | None = None
    order_id: Id | None = None
    note: Annotated[str | None, Personal("text")] = None
    state: str | None = Field(
        default=None,
        description="Support's own state: new, open, pending, pending_close, solved, closed, "
        "merged (status above is the v1 vocabulary it maps to)",
    )


class TicketResolved(Event):
    """The customer's concern is resolved."""

    event_type = "TicketResolved"

    ticket_id: Id
    resolution: Annotated[str, Personal("text")] = Field(min_length=1)
    resolved_at: AwareDatetime
    order_id: Id | None = None
    category: str | None = None


class TicketSlaBreached(Event):
    """A ticket missed a service-level target (escalation; counted in business hours)."""

    event_type = "TicketSlaBreached"

    ticket_id: Id
    target: Literal["first_response", "next_response", "resolution"]
    due_at: AwareDatetime
    breached_at: AwareDatetime
    priority: str | None = None
    assignee: str | None = None
    group: str | None = None
