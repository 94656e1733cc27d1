"""Retention of tickets (ADR 0048): a ticket closed longer ago than ``ticket_keep_days``
keeps its figures and loses its person, as after an erasure request.

Correspondence with a customer is kept while it can still matter: claims from the
contract of sale are time-barred three years after the end of the year they arose
(§§ 195, 199 BGB), so the default of four years after a ticket was closed outlives every
claim the ticket can be about. After that the ticket is anonymised
(:func:`anonymise_ticket`: text, addresses, attachments, queued replies, the rating's
comment), each in its own unit of work, so several replicas may sweep at once; channel,
states, times, SLA figures and the rating's score stay. A merged ticket counts from its
last change (its messages moved to the other ticket).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from kontor_servicekit.blobs import BlobWriter
from kontor_servicekit.clock import Clock
from kontor_servicekit.uow import Transactor

from kontor_support.application.privacy import anonymise_ticket
from kontor_support.application.unit_of_work import SupportUnitOfWork
from kontor_support.domain.ticket import Ticket

__all__ = ["anonymise_old_tickets", "past_retention"]

log = logging.getLogger(__name__)


def past_retention(ticket: Ticket, now: datetime, keep: timedelta) -> bool:
    """Whether ``ticket`` is done and was last touched more than ``keep`` ago."""
    if ticket.anonymised_at is not None:
        return False
    if ticket.status == "closed":
        ended = ticket.closed_at or ticket.updated_at
    elif ticket.status == "merged":
        ended = ticket.updated_at
    else:
        return False  # open, pending or solved: still somebody's case
    return ended is not None and ended <= now - keep


async def anonymise_old_tickets(
    transactor: Transactor[SupportUnitOfWork],
    due: Callable[[datetime], Awaitable[list[str]]],
    *,
    clock: Clock,
    keep: timedelta,
    blobs: BlobWriter | None,
) -> int:
    """One round: the tickets ``due(ended_before)`` names, each re-checked and anonymised
    in its own unit of work; their files deleted after it committed. Answers how many."""
    now = clock()
    anonymised = 0
    for ticket_id in await due(now - keep):

        async def work(uow: SupportUnitOfWork, ticket_id: str = ticket_id) -> list[str] | None:
            ticket = await uow.tickets.get(ticket_id)
            if ticket is None or not past_retention(ticket, now, keep):
                return None
            ticket.anonymised_at = now
            return (await anonymise_ticket(uow, ticket)).blob_ids

        blob_ids = await transactor.run(work)
        if blob_ids is None:
            continue
        anonymised += 1
        if blobs is not None:
            for blob_id in blob_ids:  # GridFS is not transactional: after the commit
                await blobs.delete(blob_id)
    if anonymised:
        log.info("%d tickets past their retention anonymised", anonymised)
    return anonymised
