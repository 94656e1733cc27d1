"""Phone and social contacts (issue 14): logged through the API and the signed webhook,
threaded by conversation id and by customer, logged once per external id."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from kontor_support.channels.signing import sign_webhook

pytestmark = pytest.mark.integration

SECRET = "whsec-kontor-test"


def call(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "phone",
        "direction": "in",
        "at": "2026-12-02T10:15:00+01:00",
        "duration_s": 240,
        "summary": "Fragt nach B-2026-000042, Paket nicht angekommen.",
        "external_id": "call-1",
        "conversation_id": "line-7-call-1",
        "customer": {"email": "Anna@Example.de", "phone": "030 1234567", "name": "Anna"},
    }
    body.update(changes)
    return body


async def test_calls_thread_by_conversation_and_customer_and_social_by_thread(
    start_service: Any,
) -> None:
    async with start_service("support") as support:
        first = await support.client.post("/contacts", json=call())
        assert first.status_code == 201, first.text
        assert first.json()["created_ticket"]
        ticket_id = first.json()["ticket_id"]

        # the agent calls back (no conversation id, the phone number only): same ticket
        back = await support.client.post(
            "/contacts",
            json=call(
                direction="out",
                at="2026-12-02T11:40:00+01:00",
                external_id="call-2",
                conversation_id=None,
                summary="Rückruf: Nachforschungsauftrag bei DHL gestellt.",
                customer={"phone": "+49 30 1234567"},
                duration_s=90,
            ),
        )
        assert (back.json()["ticket_id"], back.json()["created_ticket"]) == (ticket_id, False)
        again = await support.client.post("/contacts", json=call())  # reported twice
        assert again.json() == {**first.json(), "created_ticket": False, "duplicate": True}

        social = {
            "channel": "social",
            "network": "instagram",
            "direction": "in",
            "at": "2026-12-02T11:00:00Z",
            "summary": "Habt ihr den Pulli auch in grün?",
            "conversation_id": "ig-thread-9",
            "external_id": "ig-msg-1",
        }
        dm = await support.client.post("/contacts", json=social)
        assert dm.json()["created_ticket"] and dm.json()["ticket_id"] != ticket_id
        follow = await support.client.post(
            "/contacts", json={**social, "external_id": "ig-msg-2", "summary": "Größe L"}
        )
        assert follow.json()["ticket_id"] == dm.json()["ticket_id"]

        shown = (await support.client.get(f"/tickets/{ticket_id}")).json()
        assert [(m["channel"], m["direction"], m["duration_s"]) for m in shown["messages"]] == [
            ("phone", "in", 240),
            ("phone", "out", 90),
        ]
        assert shown["customer_email"] == "anna@example.de"
        assert shown["order_numbers"] == ["B-2026-000042"]
        macro = await support.client.get(
            f"/tickets/{ticket_id}/macros/where-is-my-parcel", params={"language": "en"}
        )
        assert macro.status_code == 200, macro.text
        assert "your order B-2026-000042 is on its way" in macro.json()["body"]
        assert macro.json()["placeholders"] == ["tracking_link"]  # no shipment known
        listed = (await support.client.get("/macros", params={"language": "de"})).json()
        assert {m["id"] for m in listed} == {"where-is-my-parcel", "return"}
        unknown = await support.client.get(f"/tickets/{ticket_id}/macros/nope")
        assert unknown.status_code == 404
        refused = await support.client.post(
            "/contacts", json=call(customer={}, conversation_id=None)
        )
        assert refused.status_code == 422
        assert "customer" in refused.text


async def test_the_webhook_takes_signed_contacts_once_and_refuses_forgeries(
    start_service: Any,
) -> None:
    async with start_service("support", token=None, contact_webhook_secret=SECRET) as support:
        raw = json.dumps(call(external_id="pbx-77", conversation_id="pbx-conv-77")).encode()
        signed = sign_webhook(SECRET.encode(), raw, at=datetime.now(UTC))
        headers = {"content-type": "application/json", "X-Kontor-Signature": signed}
        first = await support.client.post("/webhooks/contacts", content=raw, headers=headers)
        assert first.status_code == 201, first.text
        retried = await support.client.post("/webhooks/contacts", content=raw, headers=headers)
        assert retried.json()["duplicate"] is True
        assert retried.json()["ticket_id"] == first.json()["ticket_id"]

        forged = sign_webhook(b"not-the-secret", raw, at=datetime.now(UTC))
        for header in ({"X-Kontor-Signature": forged}, {}):
            refused = await support.client.post(
                "/webhooks/contacts",
                content=raw,
                headers={"content-type": "application/json", **header},
            )
            assert refused.status_code == 400, refused.text
        bad = json.dumps({"channel": "fax"}).encode()
        invalid = await support.client.post(
            "/webhooks/contacts",
            content=bad,
            headers={
                "content-type": "application/json",
                "X-Kontor-Signature": sign_webhook(SECRET.encode(), bad, at=datetime.now(UTC)),
            },
        )
        assert invalid.status_code == 422
        assert "channel" in invalid.text
        unauthenticated = await support.client.post("/contacts", json=call())
        assert unauthenticated.status_code == 401  # the API route is for agents
