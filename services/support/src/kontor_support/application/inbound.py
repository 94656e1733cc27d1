"""The seam between the channel adapters and the ticket core: one message in, one ticket.

Every channel (e-mail over SMTP or IMAP, chat, phone and social logging, a web form)
turns what it received into an :class:`InboundMessage` and hands it to :func:`receive`.
The adapters parse and sanitise (MIME, HTML, auto-reply detection); the core decides
which ticket the message belongs to, who the customer is, what it links to, and keeps it.

``receive`` is idempotent: a message whose ``message_id`` (mail) or, per channel,
``external_id`` is known answers ``duplicate=True`` and the ticket it landed on, and
changes nothing. Attachments go to the blob store before the unit of work that
registers them (GridFS is not transactional) and are deleted again if it fails; a
caller that may receive attachments passes ``blobs`` (``SupportContext.blobs``).
"""

from __future__ import annotations

import uuid
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from kontor_servicekit.blobs import BlobWriter
from kontor_servicekit.clock import Clock
from kontor_servicekit.domain_errors import Invalid
from kontor_servicekit.uow import Transactor

from kontor_support.application.tickets import emit_ticket_events, link_from_text, new_ticket
from kontor_support.application.unit_of_work import SupportUnitOfWork
from kontor_support.domain.message import Attachment, TicketMessage
from kontor_support.domain.threading import (
    normalise_email,
    normalise_message_id,
    normalise_phone,
    thread_candidates,
    ticket_reference,
)
from kontor_support.domain.ticket import Ticket

__all__ = ["InboundAttachment", "InboundMessage", "Received", "receive"]

Channel = Literal["email", "chat", "phone", "social", "web"]


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class InboundMessage:
    channel: Channel
    received_at: datetime
    body_text: str
    direction: Literal["in", "out"] = "in"  # phone/social can log outgoing contacts
    from_email: str | None = None
    from_name: str | None = None
    from_phone: str | None = None
    subject: str | None = None
    body_html: str | None = None  # already sanitised by channels
    message_id: str | None = None  # RFC 5322 Message-ID (dedupe key for mail)
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    external_conversation_id: str | None = None  # chat id, social thread id, call id
    external_id: str | None = None  # the channel's id of this one message
    duration_s: int | None = None  # phone
    attachments: tuple[InboundAttachment, ...] = ()
    automated: bool = False  # auto-reply/bounce: kept, never answered
    language: str | None = None  # de or en, as the customer's mail client or browser said


@dataclass(frozen=True)
class Received:
    ticket_id: str
    message_id: str  # the id of the stored ticket message (not the mail's Message-ID)
    created_ticket: bool
    duplicate: bool
    attachments: tuple[Attachment, ...] = ()  # the files stored with it


async def receive(
    transactor: Transactor[SupportUnitOfWork],
    message: InboundMessage,
    *,
    clock: Clock,
    blobs: BlobWriter | None = None,
) -> Received:
    """Put ``message`` on its ticket (found by threading, subject reference or
    conversation, else a new one) and answer where it landed."""
    if message.attachments and blobs is None:
        raise Invalid("attachments need a blob store", field=("attachments",))
    stored: list[Attachment] = []
    if blobs is not None:
        for attachment in message.attachments:
            blob_id = await blobs.put(
                attachment.content,
                filename=attachment.filename[:200],
                content_type=attachment.content_type,
                metadata={"channel": message.channel},
            )
            stored.append(
                Attachment(
                    blob_id,
                    attachment.filename[:200],
                    attachment.content_type,
                    len(attachment.content),
                )
            )
    try:
        received = await transactor.run(lambda uow: _receive(uow, message, tuple(stored), clock))
    except BaseException:
        await _drop(blobs, stored)
        raise
    if received.duplicate:
        await _drop(blobs, stored)
    return received


async def _drop(blobs: BlobWriter | None, stored: list[Attachment]) -> None:
    if blobs is None:
        return
    for attachment in stored:
        with suppress(Exception):
            await blobs.delete(attachment.blob_id)


async def _known(
    uow: SupportUnitOfWork, message: InboundMessage, mail_id: str | None
) -> TicketMessage | None:
    if mail_id is not None:
        found = await uow.messages.by_mail_id(mail_id)
        if found is not None:
            return found
    if message.external_id:
        return await uow.messages.by_external_id(message.channel, message.external_id)
    return None


CUSTOMER_THREADED = ("phone", "social")
"""Channels whose contacts without a conversation id join the customer's open ticket of
the same channel (a call back about the same matter); mail and chat never do."""


async def _customers_open_ticket(
    uow: SupportUnitOfWork, channel: str, email: str | None
) -> Ticket | None:
    if channel not in CUSTOMER_THREADED or email is None:
        return None
    tickets = [
        t for t in await uow.tickets.of_customer(email) if t.channel == channel and t.is_open
    ]
    return max(tickets, key=lambda t: t.updated_at or t.created_at, default=None)


async def _thread(
    uow: SupportUnitOfWork, message: InboundMessage, email: str | None = None
) -> tuple[Ticket | None, str | None]:
    """The ticket the message continues, and a closed one it follows up on."""
    ticket: Ticket | None = None
    ticket_id = await uow.messages.ticket_of_mail_ids(
        thread_candidates(message.in_reply_to, message.references)
    )
    if ticket_id is not None:
        ticket = await uow.tickets.get(ticket_id)
    if ticket is None:
        reference = ticket_reference(message.subject)
        if reference is not None:
            ticket = await uow.tickets.get(reference)
    if ticket is None and message.external_conversation_id:
        ticket = await uow.tickets.open_by_conversation(
            message.channel, message.external_conversation_id
        )
    if ticket is None and not message.external_conversation_id:
        ticket = await _customers_open_ticket(uow, message.channel, email)
    for _ in range(5):  # a merged ticket's messages go where it was merged into
        if ticket is None or ticket.merged_into is None:
            break
        ticket = await uow.tickets.get(ticket.merged_into)
    if ticket is not None and ticket.status in ("closed", "merged"):
        return None, ticket.id
    return ticket, None


async def _receive(
    uow: SupportUnitOfWork,
    message: InboundMessage,
    attachments: tuple[Attachment, ...],
    clock: Clock,
) -> Received:
    mail_id = normalise_message_id(message.message_id)
    known = await _known(uow, message, mail_id)
    if known is not None:
        return Received(
            known.ticket_id,
            known.id,
            created_ticket=False,
            duplicate=True,
            attachments=known.attachments,
        )
    at = message.received_at
    email = normalise_email(message.from_email)
    phone = normalise_phone(message.from_phone)
    name = message.from_name
    if email is None and phone is not None:
        customer = await uow.customers.by_phone(phone)
        if customer is not None:
            email, name = customer["_id"], name or customer.get("name")
    ticket, follow_up_of = await _thread(uow, message, email)
    created = ticket is None
    incoming = message.direction == "in"
    if ticket is None:
        ticket = await new_ticket(
            uow,
            at,
            subject=message.subject or message.body_text[:80] or "(no subject)",
            channel=message.channel,
            actor="customer" if incoming and not message.automated else "system",
            customer_email=email,
            customer_name=name,
            customer_phone=phone,
            external_conversation_id=message.external_conversation_id,
            follow_up_of=follow_up_of,
        )
        ticket.automated_last = message.automated
    else:
        if ticket.customer_email is None and email is not None:
            ticket.customer_email, ticket.customer_name = email, ticket.customer_name or name
        if incoming:
            ticket.customer_wrote(at, automated=message.automated)
    if not incoming:
        ticket.contact_logged(at, "agent", channel=message.channel)
    elif not message.automated:  # an auto-reply's language is its robot's
        ticket.note_language(message.language, "customer", at)
    await link_from_text(uow, ticket, message.subject, message.body_text)
    if mail_id is not None:
        ticket.remember_mail([mail_id])
    if email is not None and incoming:
        await uow.customers.remember(email, name=name, phone=phone, customer_id=None, at=at)
    stored = TicketMessage(
        id=str(uuid.uuid4()),
        ticket_id=ticket.id,
        direction=message.direction,
        channel=message.channel,
        body_text=message.body_text,
        body_html=message.body_html,
        at=at,
        author=email or phone,
        from_email=email,
        from_name=name,
        from_phone=phone,
        subject=message.subject,
        mail_id=mail_id,
        in_reply_to=normalise_message_id(message.in_reply_to),
        references=tuple(message.references),
        external_id=message.external_id,
        external_conversation_id=message.external_conversation_id,
        duration_s=message.duration_s,
        attachments=attachments,
        automated=message.automated,
    )
    await uow.messages.add(stored)
    if created:
        await uow.tickets.add(ticket)
    else:
        await uow.tickets.save(ticket)
    emit_ticket_events(uow, ticket)
    return Received(
        ticket.id, stored.id, created_ticket=created, duplicate=False, attachments=attachments
    )
