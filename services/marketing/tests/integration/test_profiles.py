"""Profiles from orders' events on the real broker (issue 15): revenue net of a return
(read before its order, ADR 0112) and a cancellation, RFM and AOV shown per customer,
favourite categories from the catalogue; a segment's size preview, its saved membership,
and membership kept live as the next order arrives; support's tickets on the profile and
in segment rules."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.catalog import ProductCreated
from kontor_contracts.events.common import Customer
from kontor_contracts.events.orders import OrderCancelled, ReturnCompleted
from kontor_contracts.events.support import TicketOpened, TicketResolved
from kontor_contracts.examples import load_example
from kontor_contracts.samples import order_placed_envelope
from kontor_servicekit.testing import as_message, eventually, produce, topic_of

pytestmark = pytest.mark.integration


async def test_profiles_and_live_segments(start_service: Any, infra: Any, namespace: str) -> None:
    placed = [order_placed_envelope(number=n) for n in (1, 2, 3)]
    gross = placed[0].payload_model().gross_total  # type: ignore[attr-defined]
    cancelled = OrderCancelled(order_id=placed[2].aggregate_id, reason="customer")
    returned = ReturnCompleted(
        return_id="r-1",
        order_id=placed[1].aggregate_id,
        refund_amount=Decimal("10.00"),
        currency="EUR",
        includes_shipping=False,
    )

    async def send(*envelopes: Envelope) -> None:
        for env in envelopes:
            await produce(infra.kafka_bootstrap, topic_of(namespace, env.type), [as_message(env)])

    product = load_example("ProductCreated").payload
    shirt = ProductCreated(**{**product, "sku": "TEE-RED-M", "category": "Shirts"})

    async with start_service("marketing") as marketing:
        client = marketing.client
        await send(Envelope.wrap(shirt, producer="catalog", aggregate_id=shirt.sku))

        async def categorised() -> bool:
            return bool(await marketing.kit.store.db["catalog_categories"].count_documents({}))

        await eventually(categorised, timeout=30)  # another group: known before the orders
        # the return first: another topic, read before its order in a catch-up (ADR 0112)
        await send(Envelope.wrap(returned, producer="orders", aggregate_id=returned.return_id))
        await send(*placed)
        await send(Envelope.wrap(cancelled, producer="orders", aggregate_id=cancelled.order_id))

        async def folded() -> dict[str, Any] | None:
            answer = await client.get("/profiles/anna@example.de")
            body = answer.json() if answer.status_code == 200 else None
            done = body and body["cancelled"] == 1 and Decimal(body["return_rate"]) > 0
            return body if done else None

        profile = await eventually(folded, timeout=30)
        assert profile["orders"] == 2
        assert Decimal(profile["revenue"]) == 2 * gross - Decimal("10.00")
        assert Decimal(profile["return_rate"]) == Decimal("0.5")
        assert profile["rfm"][0] == "5" and profile["consent"] == "none"
        assert profile["favourite_categories"] == ["Shirts"]  # BOOK-1 has no category

        rule = {"field": "orders", "op": "gte", "value": 3}
        preview = await client.post("/segments/preview", json={"rule": rule})
        assert preview.json() == {"size": 0, "sample": []}
        bad = await client.post("/segments", json={"name": "x", "rule": {"any": []}})
        assert bad.status_code == 422
        saved = await client.post("/segments", json={"name": "Stammkunden", "rule": rule})
        assert saved.status_code == 201, saved.text
        segment_id = saved.json()["id"]

        await send(order_placed_envelope(number=4))

        async def entered() -> list[str] | None:
            members = (await client.get(f"/segments/{segment_id}/members")).json()
            return members["items"] or None

        assert await eventually(entered, timeout=30) == ["anna@example.de"]
        listed = (await client.get("/segments")).json()
        assert [(s["name"], s["size"]) for s in listed["items"]] == [("Stammkunden", 1)]


async def test_a_sealed_ticket_shows_on_the_profile_and_moves_segments(
    start_service: Any, infra: Any, namespace: str
) -> None:
    """Support's tickets in profiles: a TicketOpened (the customer sealed, as support
    publishes it, ADR 0036) makes the profile show an open ticket and a segment with
    ``open_tickets > 0`` gain the person; TicketResolved (no e-mail) settles it."""
    async with start_service("marketing") as marketing:
        client = marketing.client
        rule = {"field": "open_tickets", "op": "gt", "value": 0}
        saved = await client.post("/segments", json={"name": "Offene Anliegen", "rule": rule})
        assert saved.status_code == 201, saved.text
        segment_id = saved.json()["id"]
        ticket = TicketOpened(
            ticket_id="t-1",
            channel="email",
            customer=Customer(email="Bert@Example.de", name="Bert Beispiel"),
            subject="Paket beschädigt",
            category="complaint",
            opened_at=datetime.now(UTC),
        )
        sealer = marketing.kit.privacy.sealer
        assert sealer is not None
        sealed = await sealer.seal(Envelope.wrap(ticket, producer="support", aggregate_id="t-1"))
        assert "Bert@Example.de" not in sealed.to_bytes().decode()  # only ciphertext travels
        topic = topic_of(namespace, "TicketOpened")
        await produce(infra.kafka_bootstrap, topic, [as_message(sealed)])

        async def shown() -> dict[str, Any] | None:
            answer = await client.get("/profiles/bert@example.de")
            return answer.json() if answer.status_code == 200 else None

        profile = await eventually(shown, timeout=30)
        assert (profile["tickets"], profile["open_tickets"]) == (1, 1)
        assert profile["last_ticket_at"] is not None and profile["orders"] == 0
        members = (await client.get(f"/segments/{segment_id}/members")).json()
        assert members["items"] == ["bert@example.de"]

        resolved = TicketResolved(
            ticket_id="t-1", resolution="Ersatz verschickt", resolved_at=datetime.now(UTC)
        )
        env = Envelope.wrap(resolved, producer="support", aggregate_id="t-1")
        await produce(infra.kafka_bootstrap, topic, [as_message(await sealer.seal(env))])

        async def left() -> bool:
            members = (await client.get(f"/segments/{segment_id}/members")).json()
            return not members["items"]

        await eventually(left, timeout=30)
        after = (await client.get("/profiles/bert@example.de")).json()
        assert (after["tickets"], after["open_tickets"]) == (1, 0)
