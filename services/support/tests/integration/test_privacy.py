"""Support answers privacy requests over the real broker (issue 13/14): an export
requested on orders carries support's part (the ticket and its messages), an erasure
strips the ticket of everything that names or quotes the person."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from kontor_servicekit.context import context_of
from kontor_servicekit.testing import eventually, wait_for_assignment
from kontor_support.application.inbound import InboundMessage, receive
from kontor_support.context import SupportContext

pytestmark = pytest.mark.integration


async def test_support_s_part_of_an_export_and_of_an_erasure(start_service: Any) -> None:
    async with (
        start_service("orders", privacy_expected_services=["orders", "support"]) as orders,
        start_service("support") as support,
    ):
        await wait_for_assignment(orders)
        await wait_for_assignment(support)
        ctx = context_of(support.app, SupportContext)
        received = await receive(
            ctx.transactor,
            InboundMessage(
                channel="email",
                received_at=datetime.now(UTC),
                body_text="Bitte an Hauptstr. 1 liefern.",
                from_email="anna@example.de",
                from_name="Anna Muster",
                subject="Lieferadresse",
                message_id="<p1@example.de>",
            ),
            clock=ctx.clock,
            blobs=ctx.blobs,
        )

        async def completed(request_id: str) -> Any:
            body = (await orders.client.get(f"/privacy/requests/{request_id}")).json()
            return body if body["status"] == "complete" else None

        asked = await orders.client.post(
            "/privacy/requests", json={"kind": "export", "email": "anna@example.de"}
        )
        assert asked.status_code == 202, asked.text
        export = await eventually(lambda: completed(asked.json()["id"]), timeout=30)
        [ticket] = export["document"]["services"]["support"]["tickets"]
        assert ticket["subject"] == "Lieferadresse"
        assert ticket["messages"][0]["text"] == "Bitte an Hauptstr. 1 liefern."

        erasure = await orders.client.post(
            "/privacy/requests", json={"kind": "erasure", "email": "anna@example.de"}
        )
        done = await eventually(lambda: completed(erasure.json()["id"]), timeout=30)
        anonymised = {i["what"]: i["count"] for i in done["services"]["support"]["anonymised"]}
        assert anonymised["tickets"] == 1 and anonymised["ticket_messages"] == 1
        shown = (await support.client.get(f"/tickets/{received.ticket_id}")).json()
        assert "Hauptstr" not in str(shown) and "anna@" not in str(shown).lower()
        assert shown["channel"] == "email"  # the figures stay
