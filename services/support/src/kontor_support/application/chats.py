"""Chats: a customer opens one, writes into it, types and reads; agents type and read.

A chat's messages go through :func:`~kontor_support.application.inbound.receive` like
every channel's (channel ``chat``, the chat id as the conversation): the first one
opens the ticket, the others land on it; agents answer with the ticket's replies,
which the chat channel pushes to the customer (``channels/chat.py``).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from kontor_servicekit.blobs import BlobWriter
from kontor_servicekit.clock import Clock
from kontor_servicekit.domain_errors import Invalid, NotFound
from kontor_servicekit.uow import Transactor

from kontor_support.application.inbound import InboundMessage, Received, receive
from kontor_support.application.unit_of_work import SupportUnitOfWork
from kontor_support.domain.chat import Chat, Side
from kontor_support.domain.threading import normalise_email

__all__ = ["MAX_CHAT_MESSAGE", "chat_message", "chat_seen", "chat_typing", "open_chat"]

MAX_CHAT_MESSAGE = 10_000


async def open_chat(
    transactor: Transactor[SupportUnitOfWork],
    *,
    name: str | None,
    email: str | None,
    clock: Clock,
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
) -> Received:
    """The customer wrote ``body`` into ``chat``: onto its ticket (opened by the first)."""
    text = body.strip()
    if not text:
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
            subject=None if chat.ticket_id else f"Chat: {text[:60]}",
            external_conversation_id=chat.id,
            external_id=external_id,
        ),
        clock=clock,
        blobs=blobs,
    )

    async def remember(uow: SupportUnitOfWork) -> None:
        stored = await uow.chats.get(chat.id)
        if stored is None:
            raise NotFound("chat", chat.id)
        stored.wrote("customer")
        stored.ticket_id = received.ticket_id
        await uow.chats.save(stored)

    await transactor.run(remember)
    chat.ticket_id = received.ticket_id
    return received


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
