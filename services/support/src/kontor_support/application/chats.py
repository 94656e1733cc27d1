"""Chats: a customer opens one, writes into it, types and reads; agents type and read.

A chat's messages go through :func:`~kontor_support.application.inbound.receive` like
every channel's (channel ``chat``, the chat id as the conversation): the first one
opens the ticket, the others land on it; agents answer with the ticket's replies,
which the chat channel pushes to the customer (``channels/chat.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import datetime, timedelta

from kontor_servicekit.blobs import BlobWriter
from kontor_servicekit.clock import Clock
from kontor_servicekit.domain_errors import IllegalTransition, Invalid, NotFound
from kontor_servicekit.uow import Transactor

from kontor_support.application.inbound import (
    InboundAttachment,
    InboundMessage,
    Received,
    receive,
)
from kontor_support.application.tickets import Reply, reply_in
from kontor_support.application.unit_of_work import SupportUnitOfWork
from kontor_support.domain.chat import Chat, Side
from kontor_support.domain.delivery import Delivery
from kontor_support.domain.message import Attachment, TicketMessage
from kontor_support.domain.threading import new_message_id, normalise_email, reply_subject

__all__ = [
    "MAX_CHAT_MESSAGE",
    "agent_chat_attachment",
    "chat_message",
    "chat_seen",
    "chat_typing",
    "chats_left_to_mail",
    "open_chat",
]

MAX_CHAT_MESSAGE = 10_000


async def open_chat(
    transactor: Transactor[SupportUnitOfWork],
    *,
    name: str | None,
    email: str | None,
    clock: Clock,
    language: str | None = None,
) -> Chat:
    """A new chat (no ticket until the customer writes)."""
    address = normalise_email(email) if email else None
    if email and (address is None or "@" not in address):
        raise Invalid("not an e-mail address", field=("email",))
    chat = Chat(
        id=uuid.uuid4().hex,
        created_at=clock(),
        customer_email=address,
        customer_name=(name or "").strip()[:200] or None,
        language=language,
    )

    async def work(uow: SupportUnitOfWork) -> Chat:
        await uow.chats.add(chat)
        return chat

    return await transactor.run(work)


async def chat_message(
    transactor: Transactor[SupportUnitOfWork],
    chat: Chat,
    body: str,
    *,
    clock: Clock,
    external_id: str | None = None,
    blobs: BlobWriter | None = None,
    attachments: tuple[InboundAttachment, ...] = (),
) -> Received:
    """The customer wrote ``body`` into ``chat`` (or sent ``attachments``, with ``body``
    as their caption, which may be empty): onto its ticket (opened by the first)."""
    text = body.strip()
    if not text and not attachments:
        raise Invalid("the message is empty", field=("body",))
    if len(text) > MAX_CHAT_MESSAGE:
        raise Invalid(f"longer than {MAX_CHAT_MESSAGE} characters", field=("body",))
    at = clock()
    received = await receive(
        transactor,
        InboundMessage(
            channel="chat",
            received_at=at,
            body_text=text,
            from_email=chat.customer_email,
            from_name=chat.customer_name,
            subject=None if chat.ticket_id else f"Chat: {(text or attachments[0].filename)[:60]}",
            external_conversation_id=chat.id,
            external_id=external_id,
            language=chat.language,
            attachments=attachments,
        ),
        clock=clock,
        blobs=blobs,
    )

    async def remember(uow: SupportUnitOfWork) -> Received:
        stored = await uow.chats.get(chat.id)
        if stored is None:
            raise NotFound("chat", chat.id)
        stored.wrote("customer")
        stored.ticket_id = received.ticket_id
        await uow.chats.save(stored)
        return received  # each block answers the same (a route renders it in each)

    await transactor.run(remember)
    chat.ticket_id = received.ticket_id
    return received


async def agent_chat_attachment(
    transactor: Transactor[SupportUnitOfWork],
    chat_id: str,
    file: InboundAttachment,
    *,
    agent: str,
    caption: str,
    clock: Clock,
    blobs: BlobWriter,
    mail_domain: str,
) -> TicketMessage:
    """An agent sends ``file`` into the chat (ADR 0123): a public reply on the chat's
    ticket carrying it, queued for the customer's socket as every chat reply (the
    ``chat-push`` sweeper pushes it as ``{"type": "attachment", ...}``). The blob is
    stored first and deleted again if the reply is refused (GridFS is no transaction)."""
    blob_id = await blobs.put(
        file.content,
        filename=file.filename,
        content_type=file.content_type,
        metadata={"channel": "chat", "chat_id": chat_id},
    )
    attachment = Attachment(blob_id, file.filename, file.content_type, len(file.content))
    reply = Reply(body=caption.strip(), agent=agent, attachments=(attachment,))

    async def work(uow: SupportUnitOfWork) -> TicketMessage:
        chat = await uow.chats.get(chat_id)
        if chat is None:
            raise NotFound("chat", chat_id)
        ticket = await uow.tickets.get(chat.ticket_id) if chat.ticket_id else None
        if ticket is None:
            raise IllegalTransition(f"chat {chat_id}", "send a file into", "without a ticket")
        if ticket.channel != "chat":  # the customer left: it continues by e-mail
            raise IllegalTransition(f"chat {chat_id}", "send a file into", "continued by mail")
        return await reply_in(uow, ticket, reply, clock(), mail_domain)

    try:
        return await transactor.run(work)
    except BaseException:
        with suppress(Exception):
            await blobs.delete(blob_id)
        raise


async def _change(
    transactor: Transactor[SupportUnitOfWork],
    chat_id: str,
    change: str,
    side: Side,
    at: datetime,
) -> Chat:
    async def work(uow: SupportUnitOfWork) -> Chat:
        chat = await uow.chats.get(chat_id)
        if chat is None:
            raise NotFound("chat", chat_id)
        changed = chat.typing(side, at) if change == "typing" else chat.read(side, at)
        if changed:
            await uow.chats.save(chat)
        return chat

    return await transactor.run(work)


async def chat_typing(
    transactor: Transactor[SupportUnitOfWork], chat_id: str, side: Side, *, at: datetime
) -> Chat:
    """``side`` is typing in ``chat_id`` (stored at most once a second)."""
    return await _change(transactor, chat_id, "typing", side, at)


async def chat_seen(
    transactor: Transactor[SupportUnitOfWork], chat_id: str, side: Side, *, at: datetime
) -> Chat:
    """``side`` has read the chat up to ``at``."""
    return await _change(transactor, chat_id, "read", side, at)


async def chats_left_to_mail(
    transactor: Transactor[SupportUnitOfWork],
    queued: Callable[[], Awaitable[list[Delivery]]],
    *,
    clock: Clock,
    after: timedelta,
    mail_domain: str,
) -> int:
    """A chat the customer left before an agent answered becomes an e-mail ticket when
    the customer gave an address: a chat reply still queued ``after`` its creation was
    pushed by no replica (none holds the customer's socket), so it goes out by mail,
    and so does the rest of the ticket. Answers how many replies were turned."""
    now = clock()
    turned = 0
    for due in await queued():
        if due.created_at > now - after:
            continue

        async def work(uow: SupportUnitOfWork, delivery_id: str = due.id) -> bool:
            delivery = await uow.deliveries.get(delivery_id)
            if delivery is None or delivery.status != "queued" or delivery.channel != "chat":
                return False
            if delivery.claimed_until is not None and delivery.claimed_until > now:
                return False  # a replica is pushing it to a socket right now
            ticket = await uow.tickets.get(delivery.ticket_id)
            if ticket is None or ticket.customer_email is None:
                return False  # no address: it waits for the customer to come back
            delivery.channel = "email"
            delivery.to_email, delivery.to_name = ticket.customer_email, ticket.customer_name
            delivery.subject = reply_subject(ticket.subject, ticket.id)
            delivery.message_id = new_message_id(mail_domain)
            delivery.in_reply_to = ticket.last_mail_id
            delivery.references = ticket.thread_ids[-20:]
            delivery.claim = delivery.claimed_until = None
            await uow.deliveries.save(delivery)
            ticket.channel = "email"
            ticket.remember_mail([delivery.message_id])
            await uow.tickets.save(ticket)
            return True

        turned += await transactor.run(work)
    return turned
