"""The SLA and pending sweep: plan each changed ticket's next deadline, escalate the
deadlines that passed (``TicketSlaBreached``), open or close pending tickets whose date
came. Each ticket is changed in a unit of work of its own that re-reads it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime

import holidays
from kontor_contracts.events.support import TicketSlaBreached
from kontor_servicekit.clock import Clock
from kontor_servicekit.uow import Transactor

from kontor_support.application.tickets import emit_ticket_events
from kontor_support.application.unit_of_work import SupportUnitOfWork
from kontor_support.domain.events import SlaWasBreached
from kontor_support.domain.sla import BusinessCalendar, SlaPolicy
from kontor_support.domain.ticket import Ticket

__all__ = ["german_calendar", "sweep_tickets"]


def german_calendar(state: str = "BE") -> BusinessCalendar:
    """Business days of Germany with the public holidays of ``state`` (BE, BY, NW, ...)."""
    known = holidays.country_holidays("DE", subdiv=state)

    def is_holiday(day: date) -> bool:
        return day in known

    return BusinessCalendar(is_holiday)


def _emit_breaches(uow: SupportUnitOfWork, ticket: Ticket) -> None:
    rest = []
    for event in ticket.pull_events():
        if isinstance(event, SlaWasBreached):
            uow.emit(
                TicketSlaBreached(
                    ticket_id=ticket.id,
                    target=event.target,
                    due_at=event.due_at,
                    breached_at=event.at,
                    priority=ticket.priority,
                    assignee=ticket.assignee,
                    group=ticket.group,
                ),
                aggregate_id=ticket.id,
            )
        else:
            rest.append(event)
    for event in rest:
        ticket.record(event)
    emit_ticket_events(uow, ticket)


async def sweep_tickets(
    transactor: Transactor[SupportUnitOfWork],
    to_sweep: Callable[[datetime], Awaitable[list[str]]],
    *,
    clock: Clock,
    policy: SlaPolicy,
    calendar: BusinessCalendar,
) -> int:
    """One round over the ids ``to_sweep(now)`` names; answers how many changed."""
    now = clock()
    changed = 0
    for ticket_id in await to_sweep(now):

        async def work(uow: SupportUnitOfWork, ticket_id: str = ticket_id) -> bool:
            ticket = await uow.tickets.get(ticket_id)
            if ticket is None:
                return False
            at = clock()
            touched = ticket.pending_is_due(at)
            if not ticket.sla_planned:
                ticket.plan_sla(policy, calendar)
                touched = True
            if ticket.check_sla(at):
                ticket.plan_sla(policy, calendar)  # to the next target
                touched = True
            if touched:
                await uow.tickets.save(ticket)
                _emit_breaches(uow, ticket)
            return touched

        changed += int(await transactor.run(work))
    return changed
