"""Retention on the running service (ADR 0048): its own periodic sweep anonymises a
ticket closed longer ago than ``ticket_keep_days`` and deletes its files from GridFS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kontor_servicekit.context import context_of
from kontor_servicekit.testing import eventually
from kontor_support.application.inbound import InboundAttachment, InboundMessage, receive
from kontor_support.context import SupportContext

pytestmark = pytest.mark.integration


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
