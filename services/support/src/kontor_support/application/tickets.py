"""Use cases of tickets: open, change, merge, reply; and the contract events they emit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from kontor_contracts.events.common import Customer
from kontor_contracts.events.support import TicketOpened, TicketResolved, TicketUpdated
from kontor_servicekit.clock import BERLIN, Clock
from kontor_servicekit.domain_errors import IllegalTransition, Invalid, NotFound
from kontor_servicekit.uow import Transactor

from kontor_support.application.ratings import RatingLinks, ask_for_rating
from kontor_support.application.unit_of_work import SupportUnitOfWork
from kontor_support.domain.delivery import Delivery
from kontor_support.domain.events import TicketWasChanged, TicketWasOpened, TicketWasSolved
from kontor_support.domain.macros import refuse_unfilled
from kontor_support.domain.message import Attachment, TicketMessage
from kontor_support.domain.threading import links_in, new_message_id, reply_subject
from kontor_support.domain.ticket import CONTRACT_STATUS, Ticket, ticket_number

__all__ = [
    "ChangeTicket",
    "OpenTicket",
    "Reply",
    "change_ticket",
    "emit_ticket_events",
    "get_ticket",
    "merge_tickets",
    "new_ticket",
    "open_ticket",
    "reply_to_ticket",
    "store_event_note",
]

#: The domain of the Message-IDs of our mails (a setting of the composition root).
DEFAULT_MAIL_DOMAIN = "support.kontor.local"

_CONTRACT_CHANNEL = {"email": "email", "phone": "phone", "chat": "chat", "social": "social"}


async def get_ticket(uow: SupportUnitOfWork, ticket_id: str) -> Ticket:
    ticket = await uow.tickets.get(ticket_id)
    if ticket is None:
        raise NotFound("ticket", ticket_id)
    return ticket


async def new_ticket(uow: SupportUnitOfWork, at: datetime, **fields: object) -> Ticket:
    """A ticket with the next number of its (Berlin) year; stored by the caller."""
    year = at.astimezone(BERLIN).year
    number = ticket_number(year, await uow.next_sequence(f"ticket:{year}"))
    return Ticket.open(id=number, at=at, **fields)  # type: ignore[arg-type]


async def store_event_note(
    uow: SupportUnitOfWork,
    ticket: Ticket,
    *,
    created: bool,
    body: str,
    at: datetime,
    author: str = "system",
) -> None:
    """An event's internal note on ``ticket`` (channel ``web``), the ticket stored (added
    when ``created``, else saved) and its contract events emitted."""
    await uow.messages.add(
        TicketMessage(
            id=str(uuid.uuid4()),
            ticket_id=ticket.id,
            direction="in",
            channel="web",
            body_text=body,
            at=at,
            internal=True,
            author=author,
            subject=ticket.subject,
        )
    )
    if created:
        await uow.tickets.add(ticket)
    else:
        await uow.tickets.save(ticket)
    emit_ticket_events(uow, ticket)


def emit_ticket_events(uow: SupportUnitOfWork, ticket: Ticket) -> None:
    """Turn what the ticket recorded into ``TicketOpened``/``Updated``/``Resolved``."""
    for event in ticket.pull_events():
        if isinstance(event, TicketWasOpened):
            if ticket.customer_email is None:
                continue  # the contract needs a customer: announced once one is known
            uow.emit(
                TicketOpened(
                    ticket_id=ticket.id,
                    channel=_CONTRACT_CHANNEL.get(ticket.channel, "form"),
                    customer=Customer(
                        email=ticket.customer_email, name=ticket.customer_name or "—"
                    ),
                    subject=ticket.subject,
                    order_id=ticket.order_id,
                    category=ticket.category,
                    priority=ticket.priority,
                    opened_at=ticket.created_at,
                ),
                aggregate_id=ticket.id,
            )
        elif isinstance(event, TicketWasChanged):
            uow.emit(
                TicketUpdated(
                    ticket_id=ticket.id,
                    status=CONTRACT_STATUS[ticket.status],
                    priority=ticket.priority,
                    assignee=ticket.assignee,
                    order_id=ticket.order_id,
                    note=event.note,
                    state=ticket.status,
                ),
                aggregate_id=ticket.id,
            )
        elif isinstance(event, TicketWasSolved):
            uow.emit(
                TicketResolved(
                    ticket_id=ticket.id,
                    resolution=event.resolution,
                    resolved_at=event.at,
                    order_id=ticket.order_id,
                    category=ticket.category,
                ),
                aggregate_id=ticket.id,
            )


async def link_from_text(uow: SupportUnitOfWork, ticket: Ticket, *texts: str | None) -> None:
    """Link the orders, invoices and returns named in ``texts``; the first known order
    also gives the ticket its order id and, if it has none, its customer."""
    links = links_in(texts)
    ticket.link(
        order_numbers=links.order_numbers,
        invoice_numbers=links.invoice_numbers,
        return_ids=links.return_ids,
        at=ticket.updated_at or ticket.created_at,
    )
    if ticket.order_id is None:
        for number in ticket.order_numbers:
            order = await uow.order_context.by_number(number)
            if order is not None:
                ticket.order_id = order["_id"]
                if ticket.customer_email is None and order.get("email"):
                    ticket.customer_email = order["email"]
                    ticket.customer_name = ticket.customer_name or order.get("customer_name")
                break


@dataclass(frozen=True)
class OpenTicket:
    subject: str
    body: str
    agent: str
    channel: str = "phone"
    customer_email: str | None = None
    customer_name: str | None = None
    priority: str = "normal"
    group: str | None = None
    tags: tuple[str, ...] = ()


async def open_ticket(
    transactor: Transactor[SupportUnitOfWork], command: OpenTicket, clock: Clock
) -> Ticket:
    """An agent opens a ticket for a customer (a call, a letter, a counter visit)."""

    async def work(uow: SupportUnitOfWork) -> Ticket:
        at = clock()
        email = command.customer_email.strip().lower() if command.customer_email else None
        ticket = await new_ticket(
            uow,
            at,
            subject=command.subject,
            channel=command.channel,
            actor=command.agent,
            priority=command.priority,
            customer_email=email,
            customer_name=command.customer_name,
            group=command.group,
            tags=tuple(dict.fromkeys(t.lower() for t in command.tags)),
        )
        await link_from_text(uow, ticket, command.subject, command.body)
        await uow.messages.add(
            TicketMessage(
                id=str(uuid.uuid4()),
                ticket_id=ticket.id,
                direction="in",
                channel=command.channel,
                body_text=command.body,
                at=at,
                internal=True,
                author=command.agent,
                subject=command.subject,
            )
        )
        await uow.tickets.add(ticket)
        emit_ticket_events(uow, ticket)
        return ticket

    return await transactor.run(work)


@dataclass(frozen=True)
class ChangeTicket:
    agent: str
    status: str | None = None
    priority: str | None = None
    assignee: str | None = None
    unassign: bool = False
    group: str | None = None
    tags: tuple[str, ...] | None = None
    pending_until: datetime | None = None
    resolution: str | None = None
    language: str | None = None  # the customer's, as the agent knows it (ADR 0122)


async def change_ticket(
    transactor: Transactor[SupportUnitOfWork],
    ticket_id: str,
    command: ChangeTicket,
    clock: Clock,
    *,
    ratings: RatingLinks | None = None,
) -> Ticket:
    """An agent's change; solving the ticket asks its customer for a rating (once, when
    ``ratings`` is set up: ADR 0044) in the same unit of work."""

    async def work(uow: SupportUnitOfWork) -> Ticket:
        at = clock()
        ticket = await get_ticket(uow, ticket_id)
        ticket.change(
            at,
            command.agent,
            status=command.status,
            priority=command.priority,
            assignee=command.assignee,
            unassign=command.unassign,
            group=command.group,
            tags=command.tags,
            pending_until=command.pending_until,
            resolution=command.resolution,
            language=command.language,
        )
        solved = any(isinstance(e, TicketWasSolved) for e in ticket.recorded_events)
        if solved and ratings is not None:
            await ask_for_rating(uow, ticket, at, ratings, actor=command.agent)
        await uow.tickets.save(ticket)
        emit_ticket_events(uow, ticket)
        return ticket

    return await transactor.run(work)


async def merge_tickets(
    transactor: Transactor[SupportUnitOfWork],
    ticket_id: str,
    into: str,
    agent: str,
    clock: Clock,
) -> Ticket:
    """Fold ``ticket_id`` into ``into``: its messages move there. Answers the target."""

    async def work(uow: SupportUnitOfWork) -> Ticket:
        source = await get_ticket(uow, ticket_id)
        target = await get_ticket(uow, into)
        source.merge_into(target, clock(), agent)
        await uow.messages.move(source.id, target.id)
        await uow.tickets.save(source)
        await uow.tickets.save(target)
        emit_ticket_events(uow, source)
        emit_ticket_events(uow, target)
        return target

    return await transactor.run(work)


@dataclass(frozen=True)
class Reply:
    body: str
    agent: str
    internal: bool = False
    body_html: str | None = None
    placeholders: dict[str, str] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()  # stored blobs (a chat's file: ADR 0123)


async def reply_to_ticket(
    transactor: Transactor[SupportUnitOfWork],
    ticket_id: str,
    command: Reply,
    clock: Clock,
    *,
    mail_domain: str = DEFAULT_MAIL_DOMAIN,
) -> TicketMessage:
    """An agent's reply: an internal note stays on the ticket; a public reply is queued
    for delivery on the ticket's channel in the same unit of work (never to an
    auto-reply: a ticket whose newest customer message was automated is refused)."""
    refuse_unfilled(command.body, field=("body",))

    async def work(uow: SupportUnitOfWork) -> TicketMessage:
        return await reply_in(uow, await get_ticket(uow, ticket_id), command, clock(), mail_domain)

    return await transactor.run(work)


async def reply_in(
    uow: SupportUnitOfWork, ticket: Ticket, command: Reply, at: datetime, mail_domain: str
) -> TicketMessage:
    """:func:`reply_to_ticket`'s work on ``ticket`` in the caller's unit of work."""
    if not command.internal and ticket.automated_last and ticket.waiting_since is None:
        raise IllegalTransition(
            f"ticket {ticket.id}",
            "answer",
            "waiting on an automated message",
            message=f"the newest message on ticket {ticket.id} is an auto-reply or "
            "bounce, which is never answered; write an internal note or wait for the "
            "customer",
        )
    ticket.agent_replied(at, command.agent, internal=command.internal)
    message = TicketMessage(
        id=str(uuid.uuid4()),
        ticket_id=ticket.id,
        direction="out",
        channel=ticket.channel,
        body_text=command.body,
        body_html=command.body_html,
        at=at,
        internal=command.internal,
        author=command.agent,
        attachments=command.attachments,
    )
    if not command.internal:
        delivery = await _queue(uow, ticket, message, at, mail_domain)
        message.delivery_id = delivery.id
        message.mail_id = delivery.message_id
        message.subject = delivery.subject
        message.in_reply_to = delivery.in_reply_to
        message.references = delivery.references
        if delivery.message_id:
            ticket.remember_mail([delivery.message_id])
    await uow.messages.add(message)
    await uow.tickets.save(ticket)
    emit_ticket_events(uow, ticket)
    return message


async def _queue(
    uow: SupportUnitOfWork, ticket: Ticket, message: TicketMessage, at: datetime, domain: str
) -> Delivery:
    if ticket.channel == "email" and ticket.customer_email is None:
        raise Invalid(
            f"ticket {ticket.id} has no customer address to send the reply to", field=("body",)
        )
    # e-mail goes out over SMTP, chat over the WebSocket; phone and social replies are
    # queued too, for the adapter of that channel (or an agent) to mark them sent
    delivery_channel = ticket.channel
    is_mail = delivery_channel == "email"
    delivery = Delivery(
        id=str(uuid.uuid4()),
        ticket_id=ticket.id,
        ticket_message_id=message.id,
        channel=delivery_channel,
        subject=reply_subject(ticket.subject, ticket.id) if is_mail else None,
        body_text=message.body_text,
        body_html=message.body_html,
        created_at=at,
        to_email=ticket.customer_email,
        to_name=ticket.customer_name,
        message_id=new_message_id(domain) if is_mail else None,
        in_reply_to=ticket.last_mail_id if is_mail else None,
        references=ticket.thread_ids[-20:] if is_mail else (),
        external_conversation_id=ticket.external_conversation_id,
        attachments=message.attachments,
    )
    await uow.deliveries.add(delivery)
    return delivery
