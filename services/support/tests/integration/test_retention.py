"""Retention on the running service: its own periodic sweeps anonymise a ticket closed
longer ago than ``ticket_keep_days`` and delete its files from GridFS (ADR 0048), and
delete the context read models (order contexts, customers, chats) past their periods
unless a kept ticket needs them (ADR 0138)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kontor_servicekit.context import context_of
from kontor_servicekit.testing import eventually
from kontor_support.application.inbound import InboundAttachment, InboundMessage, receive
from kontor_support.context import SupportContext
from kontor_support.domain.chat import Chat
from kontor_support.store.migrations import add_last_event_at

pytestmark = pytest.mark.integration


def as_utc(moment: datetime) -> datetime:
    """A moment read back from the database (naive UTC) as an aware one."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def test_the_sweeper_anonymises_a_ticket_closed_past_its_retention(
    start_service: Any,
) -> None:
    settings = {"ticket_keep_days": 30, "retention_sweep_interval_s": 0.2}
    async with start_service("support", **settings) as support:
        ctx = context_of(support.app, SupportContext)
        received = await receive(
            ctx.transactor,
            InboundMessage(
                channel="email",
                received_at=datetime.now(UTC),
                body_text="Meine neue Adresse: Hauptstr. 1, Berlin",
                from_email="anna@example.de",
                subject="Adresse",
                message_id="<keep@example.de>",
                attachments=(InboundAttachment("ausweis.txt", "text/plain", b"Ausweis"),),
            ),
            clock=ctx.clock,
            blobs=ctx.blobs,
        )
        ticket_id = received.ticket_id
        closed = await support.client.patch(f"/tickets/{ticket_id}", json={"status": "closed"})
        assert closed.status_code == 200, closed.text
        [attached] = (await support.client.get(f"/tickets/{ticket_id}")).json()["messages"][0][
            "attachments"
        ]
        blob_id = attached["blob_id"]
        assert await ctx.blobs.get(blob_id) is not None

        later = datetime.now(UTC) + timedelta(days=31)
        ctx.clock = lambda: later  # 31 days on: past the 30 days kept

        async def anonymised() -> dict[str, Any] | None:
            # the file goes after the ticket's transaction: wait for both
            shown = (await support.client.get(f"/tickets/{ticket_id}")).json()
            gone = shown["customer_email"] is None and await ctx.blobs.get(blob_id) is None
            return shown if gone else None

        shown = await eventually(anonymised, timeout=15)
        assert shown["subject"] == "(erased)" and shown["status"] == "closed"
        [message] = shown["messages"]
        assert message["body"] == "(erased)" and message["attachments"] == []
        page = await support.client.get("/tickets", params={"customer": "anna@example.de"})
        assert page.json()["total"] == 0


async def test_the_context_goes_after_its_periods_unless_a_kept_ticket_needs_it(
    start_service: Any,
) -> None:
    """ADR 0138: an order's context counts from its last fact, a customer from the last
    fact naming them, a chat from its end (its token's expiry); a kept ticket holds its
    customer's orders and customer, an order it names, and the chat it is still open
    for; what nothing holds goes, each by its own period."""
    settings = {
        "context_order_keep_days": 100,
        "customer_keep_days": 100,
        "chat_keep_days": 10,
        "chat_token_ttl_s": 86_400,
        "retention_sweep_interval_s": 0.2,
    }
    async with start_service("support", **settings) as support:
        ctx = context_of(support.app, SupportContext)
        db = support.kit.store.db
        t0 = datetime.now(UTC)
        later = t0 + timedelta(days=50)

        async def mail_from(sender: str) -> str:
            received = await receive(
                ctx.transactor,
                InboundMessage(
                    channel="email",
                    received_at=t0,
                    body_text="Wo bleibt meine Bestellung?",
                    from_email=sender,
                    subject="Bestellung",
                    message_id=f"<{sender}>",
                ),
                clock=ctx.clock,
            )
            return received.ticket_id

        anna_ticket = await mail_from("anna@example.de")  # open: holds anna's context
        carl_ticket = await mail_from("carl@example.de")
        closed = await support.client.patch(f"/tickets/{carl_ticket}", json={"status": "closed"})
        assert closed.status_code == 200, closed.text

        async def seed(uow: Any) -> None:
            ticket = await uow.tickets.get(carl_ticket)
            ticket.link(order_numbers=["B-3"], at=t0)  # closed, not anonymised: still kept
            await uow.tickets.save(ticket)
            for email, at in (
                ("old@example.de", t0),
                ("anna@example.de", t0),
                ("bert@example.de", t0),
                ("fresh@example.de", later),
            ):
                await uow.customers.remember(
                    email, name="N. N.", phone=None, customer_id=None, at=at
                )
            for order_id, number, email in (
                ("o-old", "B-1", "old@example.de"),
                ("o-anna", "B-2", "anna@example.de"),
                ("o-named", "B-3", "dora@example.de"),
                ("o-bert", "B-4", "bert@example.de"),
            ):
                await uow.order_context.set(
                    order_id, {"order_number": number, "email": email}, at=t0
                )
            # a newer fact counts, an older one handled later does not move it back
            await uow.order_context.add("o-bert", "payments", {"payment_id": "p-1"}, at=later)
            await uow.order_context.set("o-bert", {"status": "confirmed"}, at=t0)
            await uow.chats.add(Chat(id="chat-old", created_at=t0))
            await uow.chats.add(Chat(id="chat-closed", created_at=t0, ticket_id=carl_ticket))
            await uow.chats.add(Chat(id="chat-open", created_at=t0, ticket_id=anna_ticket))
            fresh_chat = t0 + timedelta(days=95)  # ends a day later, kept 10 days more
            await uow.chats.add(Chat(id="chat-fresh", created_at=fresh_chat))

        await ctx.transactor.run(seed)
        bert = await db["context_orders"].find_one({"_id": "o-bert"})
        stored_at = as_utc(bert["last_event_at"])  # the database keeps milliseconds
        assert abs(stored_at - later) < timedelta(milliseconds=1)

        async def ids(collection: str) -> set[str]:
            return {doc["_id"] async for doc in db[collection].find({}, {"_id": 1})}

        await asyncio.sleep(0.5)  # a few sweeps at today's time: nothing is due
        assert await ids("context_orders") == {"o-old", "o-anna", "o-named", "o-bert"}

        moved = t0 + timedelta(days=101)
        ctx.clock = lambda: moved  # past 100 days of t0, not of later

        async def swept() -> bool:
            return "o-old" not in await ids("context_orders") and (
                "old@example.de" not in await ids("customers")
                and "chat-old" not in await ids("chats")
                and "chat-closed" not in await ids("chats")
            )

        await eventually(swept, timeout=15)
        assert await ids("context_orders") == {"o-anna", "o-named", "o-bert"}
        # carl's ticket is closed but kept (not anonymised yet): so is carl
        kept = {"anna@example.de", "bert@example.de", "carl@example.de", "fresh@example.de"}
        assert await ids("customers") == kept
        assert await ids("chats") == {"chat-open", "chat-fresh"}
        shown = (await support.client.get(f"/tickets/{anna_ticket}")).json()
        assert [o["order_number"] for o in shown["customer"]["orders"]] == ["B-2"]


async def test_order_contexts_stored_before_retention_count_from_the_migration(
    start_service: Any,
) -> None:
    async with start_service("support") as support:
        db = support.kit.store.db
        await db["context_orders"].insert_one({"_id": "o-legacy", "order_number": "B-9"})
        before = datetime.now(UTC) - timedelta(seconds=1)
        await add_last_event_at(support.kit.store)
        legacy = await db["context_orders"].find_one({"_id": "o-legacy"})
        assert as_utc(legacy["last_event_at"]) >= before
