"""A chat's live state: typing holds a few seconds and is stored at most once a second,
read marks only move forward, a message ends its side's typing; files in the chat: the
customer's lands on the ticket, the agent's is a reply pushed as an attachment frame."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from kontor_servicekit.domain_errors import IllegalTransition, Invalid, NotFound
from kontor_servicekit.fakes import FakeTransactor, InMemoryBlobs
from kontor_servicekit.testing import sample_image
from kontor_support.application.chats import (
    agent_chat_attachment,
    chat_message,
    chat_seen,
    chat_typing,
    open_chat,
)
from kontor_support.application.inbound import InboundAttachment
from kontor_support.channels.chat import reply_frame
from kontor_support.domain.chat import TYPING_FRESH, Chat
from kontor_support.domain.delivery import Delivery
from kontor_support.store.memory import InMemorySupportUnitOfWork

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 2, 15, tzinfo=UTC)


def test_typing_is_fresh_for_a_few_seconds_and_stored_at_most_once_a_second() -> None:
    chat = Chat(id="c1", created_at=AT)
    assert chat.typing("customer", AT)
    assert not chat.typing("customer", AT + timedelta(milliseconds=500))
    assert chat.typing("customer", AT + timedelta(seconds=2))
    assert chat.is_typing("customer", AT + timedelta(seconds=3))
    assert not chat.is_typing("customer", AT + timedelta(seconds=2) + TYPING_FRESH)
    assert not chat.is_typing("agent", AT)
    chat.wrote("customer")
    assert not chat.is_typing("customer", AT + timedelta(seconds=3))


def test_read_marks_only_move_forward() -> None:
    chat = Chat(id="c1", created_at=AT)
    assert chat.read("agent", AT)
    assert not chat.read("agent", AT - timedelta(seconds=1))
    assert chat.read("agent", AT + timedelta(seconds=1))
    assert chat.agent_read_at == AT + timedelta(seconds=1)
    assert chat.customer_read_at is None


async def test_opening_a_chat_checks_the_address_and_state_changes_need_the_chat() -> None:
    transactor = FakeTransactor(InMemorySupportUnitOfWork)
    chat = await open_chat(transactor, name=" Anna ", email="Anna@Example.de", clock=lambda: AT)
    assert (chat.customer_email, chat.customer_name) == ("anna@example.de", "Anna")
    with pytest.raises(Invalid):
        await open_chat(transactor, name=None, email="no address", clock=lambda: AT)
    typed = await chat_typing(transactor, chat.id, "agent", at=AT)
    assert typed.is_typing("agent", AT)
    seen = await chat_seen(transactor, chat.id, "customer", at=AT)
    assert seen.customer_read_at == AT
    with pytest.raises(NotFound):
        await chat_seen(transactor, "nope", "agent", at=AT)


# --- files in the chat (ADR 0123) -------------------------------------------------

PNG = sample_image("image/png")


async def test_a_customer_s_file_opens_the_ticket_and_lands_on_it() -> None:
    transactor = FakeTransactor(InMemorySupportUnitOfWork)
    blobs = InMemoryBlobs()
    chat = await open_chat(transactor, name="Anna", email="anna@example.de", clock=lambda: AT)
    received = await chat_message(
        transactor,
        chat,
        "",
        clock=lambda: AT,
        blobs=blobs,
        attachments=(InboundAttachment("naht.png", "image/png", PNG),),
    )
    assert received.created_ticket
    [file] = received.attachments
    assert (file.filename, file.content_type, file.size) == ("naht.png", "image/png", len(PNG))
    assert blobs.files[file.blob_id][0] == PNG  # kept as sent

    async def read(uow: InMemorySupportUnitOfWork) -> tuple[Any, ...]:
        ticket = await uow.tickets.get(received.ticket_id)
        return (
            ticket,
            await uow.messages.of_ticket(received.ticket_id),
            await uow.chats.get(chat.id),
        )

    ticket, [message], stored_chat = await transactor.run(read)
    assert ticket.subject == "Chat: naht.png" and ticket.channel == "chat"
    assert message.attachments == (file,) and message.body_text == ""
    assert stored_chat.ticket_id == ticket.id
    with pytest.raises(Invalid):  # neither words nor a file
        await chat_message(transactor, chat, "  ", clock=lambda: AT, blobs=blobs)


async def test_an_agent_s_file_is_a_reply_queued_as_an_attachment_frame() -> None:
    transactor = FakeTransactor(InMemorySupportUnitOfWork)
    blobs = InMemoryBlobs()
    chat = await open_chat(transactor, name="Anna", email=None, clock=lambda: AT)
    sent = InboundAttachment("label.pdf", "application/pdf", b"%PDF-1.4 ... %%EOF")
    send = partial(
        agent_chat_attachment,
        transactor,
        chat.id,
        sent,
        agent="berta",
        clock=lambda: AT,
        blobs=blobs,
        mail_domain="support.example",
    )
    with pytest.raises(IllegalTransition):  # nobody wrote yet: no ticket to answer on
        await send(caption="")
    assert blobs.files == {}  # the stored file went again
    await chat_message(transactor, chat, "Hallo", clock=lambda: AT, blobs=blobs)

    reply = await send(caption=" Ihr Etikett ")
    [file] = reply.attachments
    assert (reply.direction, reply.author, reply.body_text) == ("out", "berta", "Ihr Etikett")
    assert blobs.files[file.blob_id][0] == sent.content

    async def delivery(uow: InMemorySupportUnitOfWork) -> Delivery | None:
        return await uow.deliveries.get(reply.delivery_id or "")

    queued = await transactor.run(delivery)
    assert queued is not None and queued.channel == "chat" and queued.attachments == (file,)
    frame = reply_frame(queued, chat.id)
    assert frame == {
        "type": "attachment",
        "from": "agent",
        "id": reply.id,
        "body": "Ihr Etikett",
        "at": "2026-12-02T15:00:00Z",
        "attachment": {
            "id": file.blob_id,
            "filename": "label.pdf",
            "content_type": "application/pdf",
            "size": len(sent.content),
            "url": f"/chats/{chat.id}/attachments/{file.blob_id}",
        },
    }
    queued.attachments = ()  # a reply without a file keeps the message frame as it was
    assert set(reply_frame(queued, chat.id)) == {"type", "from", "id", "body", "at"}
    assert reply_frame(queued, chat.id)["type"] == "message"
