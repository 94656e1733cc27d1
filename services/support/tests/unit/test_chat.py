"""A chat's live state: typing holds a few seconds and is stored at most once a second,
read marks only move forward, a message ends its side's typing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from kontor_servicekit.domain_errors import Invalid, NotFound
from kontor_servicekit.fakes import FakeTransactor
from kontor_support.application.chats import chat_seen, chat_typing, open_chat
from kontor_support.domain.chat import TYPING_FRESH, Chat
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
