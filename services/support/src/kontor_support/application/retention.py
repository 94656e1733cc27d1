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

The read models of the tickets' context have periods of their own (ADR 0138), deleted
by :func:`forget_old_context`, each row in its own unit of work that re-checks it: an
order's context ``context_order_keep_days`` after its last fact, a customer
``customer_keep_days`` after the last fact naming them, a chat ``chat_keep_days`` after
it ended (its customer token expired). None of them goes while a ticket still needs it:
an order while a ticket not anonymised yet is its customer's or names its number, a
customer while such a ticket is theirs or an order of theirs is kept, a chat while its
ticket is not closed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from kontor_servicekit.blobs import BlobWriter
from kontor_servicekit.clock import Clock
from kontor_servicekit.uow import Transactor

from kontor_support.application.privacy import anonymise_ticket
from kontor_support.application.unit_of_work import SupportUnitOfWork
from kontor_support.domain.ticket import Ticket

__all__ = [
    "ContextDue",
    "ContextRetention",
    "Forgotten",
    "anonymise_old_tickets",
    "forget_old_context",
    "past_retention",
]

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


@dataclass(frozen=True)
class ContextRetention:
    """How long the context read models keep a row (settings ``*_keep_days``)."""

    orders: timedelta  # after the order's last fact
    customers: timedelta  # after the last fact naming the customer
    chats: timedelta  # after the chat ended
    chat_lasts: timedelta  # a chat ends when its customer token expires


@dataclass(frozen=True)
class Forgotten:
    orders: int = 0
    customers: int = 0
    chats: int = 0


class ContextDue(Protocol):
    """Ids of rows old enough to be looked at, in pages ordered by id (``after``: the
    last id of the page before)."""

    async def orders_before(self, before: datetime, *, after: str | None) -> list[str]: ...

    async def customers_before(self, before: datetime, *, after: str | None) -> list[str]: ...

    async def chats_before(self, before: datetime, *, after: str | None) -> list[str]: ...


def _kept(tickets: list[Ticket]) -> bool:
    """Whether one of ``tickets`` is still kept with its person (not anonymised)."""
    return any(ticket.anonymised_at is None for ticket in tickets)


async def forget_old_context(
    transactor: Transactor[SupportUnitOfWork],
    due: ContextDue,
    *,
    clock: Clock,
    keep: ContextRetention,
) -> Forgotten:
    """One round: orders, then customers (whom their kept orders hold), then chats past
    their period, each re-checked and deleted in its own unit of work."""
    now = clock()
    orders_before = now - keep.orders
    customers_before = now - keep.customers
    chats_before = now - keep.chats - keep.chat_lasts

    async def order(uow: SupportUnitOfWork, order_id: str) -> bool:
        found = await uow.order_context.get(order_id)
        if found is None or not _older(found.get("last_event_at"), orders_before):
            return False
        number, email = found.get("order_number"), found.get("email")
        if number and _kept(await uow.tickets.of_order(number)):
            return False
        if email and _kept(await uow.tickets.of_customer(email)):
            return False
        await uow.order_context.delete(order_id)
        return True

    async def customer(uow: SupportUnitOfWork, email: str) -> bool:
        found = await uow.customers.get(email)
        if found is None or not _older(found.get("updated_at"), customers_before):
            return False
        if await uow.order_context.of_customer(email):
            return False
        if _kept(await uow.tickets.of_customer(email)):
            return False
        return bool(await uow.customers.forget(email))

    async def chat(uow: SupportUnitOfWork, chat_id: str) -> bool:
        found = await uow.chats.get(chat_id)
        if found is None or not _older(found.created_at, chats_before):
            return False
        ticket = await uow.tickets.get(found.ticket_id) if found.ticket_id else None
        if ticket is not None and ticket.status not in ("closed", "merged"):
            return False  # still somebody's case: the agent may write into the chat
        await uow.chats.delete(chat_id)
        return True

    forgotten = Forgotten(
        orders=await _sweep(transactor, due.orders_before, orders_before, order),
        customers=await _sweep(transactor, due.customers_before, customers_before, customer),
        chats=await _sweep(transactor, due.chats_before, chats_before, chat),
    )
    if forgotten != Forgotten():
        log.info(
            "past their retention: %d order contexts, %d customers, %d chats deleted",
            forgotten.orders,
            forgotten.customers,
            forgotten.chats,
        )
    return forgotten


def _older(moment: datetime | None, before: datetime) -> bool:
    if moment is None:
        return False
    if moment.tzinfo is None:  # read back from the database: naive UTC
        moment = moment.replace(tzinfo=before.tzinfo)
    return moment <= before


async def _sweep(
    transactor: Transactor[SupportUnitOfWork],
    page: Callable[..., Awaitable[list[str]]],
    before: datetime,
    forget: Callable[[SupportUnitOfWork, str], Awaitable[bool]],
) -> int:
    """Every id ``page`` names, page by page, each through ``forget`` in its own unit of
    work; answers how many it deleted."""
    deleted, after = 0, None
    while ids := await page(before, after=after):
        for key in ids:

            async def work(uow: SupportUnitOfWork, key: str = key) -> bool:
                return await forget(uow, key)

            deleted += await transactor.run(work)
        after = ids[-1]
    return deleted
