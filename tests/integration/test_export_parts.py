"""Export parts too large for an event (issue 13, ADR 0142), on the real broker and database.

Support's part of a customer's export with a mail of 900 KiB is above the kit's default
limit (768 KiB): it is stored in the shared privacy bucket, the answer names it with its
size and SHA-256, and orders' document holds it whole and verified; the person's erasure
deletes it. With a small limit: a part changed or deleted in the bucket shows as a
problem of the request (not a crash, the document not complete), and the sweeper
deletes a part whose request expired and one that no answer names.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from kontor_orders.application.privacy import PrivacyDesk, sweep_export_parts
from kontor_orders.context import OrdersContext
from kontor_servicekit.blobs import BlobStore
from kontor_servicekit.context import context_of
from kontor_servicekit.privacy.participant import MAX_PART_BYTES
from kontor_servicekit.testing import eventually, wait_for_assignment
from kontor_support.application.inbound import InboundMessage, receive
from kontor_support.context import SupportContext

pytestmark = pytest.mark.integration

EXPECTED = ["orders", "support"]


async def _mail(support: Any, email: str, text: str) -> None:
    ctx = context_of(support.app, SupportContext)
    await receive(
        ctx.transactor,
        InboundMessage(
            channel="email",
            received_at=datetime.now(UTC),
            body_text=text,
            from_email=email,
            from_name="Anna Muster",
            subject="Meine Bestellung",
            message_id=f"<{hashlib.sha256(text.encode()).hexdigest()[:16]}@example.de>",
        ),
        clock=ctx.clock,
        blobs=ctx.blobs,
    )


def _desk(orders: Any) -> tuple[PrivacyDesk, BlobStore]:
    desk = context_of(orders.app, OrdersContext).privacy
    assert desk is not None
    parts = desk.parts
    assert isinstance(parts, BlobStore)
    return desk, parts


async def _export(orders: Any, email: str) -> dict[str, Any]:
    asked = await orders.client.post("/privacy/requests", json={"kind": "export", "email": email})
    assert asked.status_code == 202, asked.text

    async def completed() -> Any:
        body = (await orders.client.get(f"/privacy/requests/{asked.json()['id']}")).json()
        return body if body["status"] == "complete" else None

    result: dict[str, Any] = await eventually(completed, timeout=60)
    return result


async def test_a_part_above_768_kib_arrives_whole_and_verified_and_goes_with_the_erasure(
    start_service: Any,
) -> None:
    long_mail = "Hallo, hier die ganze Vorgeschichte meiner Bestellung.\n" * 17_000  # 900 KiB
    assert len(long_mail.encode()) > MAX_PART_BYTES
    async with (
        start_service("orders", privacy_expected_services=EXPECTED) as orders,
        start_service("support") as support,  # the kit's default limit
    ):
        await wait_for_assignment(orders)
        await wait_for_assignment(support)
        await _mail(support, "anna@example.de", long_mail)

        export = await _export(orders, "anna@example.de")
        answer = export["services"]["support"]
        assert answer["blob_ref"] and answer["blob_size"] > MAX_PART_BYTES
        assert answer["problem"] is None and export["problems"] == {}
        document = export["document"]
        assert document["complete"] is True and "problems" not in document
        [ticket] = document["services"]["support"]["tickets"]
        assert ticket["messages"][0]["text"] == long_mail
        assert export["services"]["orders"]["blob_ref"] is None  # a small part stays inline

        _, parts = _desk(orders)
        blob = await parts.get(answer["blob_ref"])
        assert blob is not None and len(blob.data) == answer["blob_size"]
        assert hashlib.sha256(blob.data).hexdigest() == answer["blob_sha256"]
        download = await orders.client.get(f"/privacy/requests/{export['id']}/document")
        assert download.status_code == 200
        assert download.json()["services"]["support"]["tickets"][0]["messages"][0]["text"] == (
            long_mail
        )

        erasure = await orders.client.post(
            "/privacy/requests", json={"kind": "erasure", "email": "anna@example.de"}
        )
        assert erasure.status_code == 202, erasure.text
        assert await parts.get(answer["blob_ref"]) is None  # deleted with the erasure
        forgotten = (await orders.client.get(f"/privacy/requests/{export['id']}")).json()
        assert forgotten["problems"] == {} and forgotten["document"]["services"]["support"] is None
        assert forgotten["services"]["support"]["blob_ref"] is None


async def test_a_changed_or_missing_part_is_a_problem_and_expired_or_orphaned_parts_are_swept(
    start_service: Any,
) -> None:
    async with (
        start_service("orders", privacy_expected_services=EXPECTED) as orders,
        start_service("support", privacy_export_inline_max_bytes=512) as support,
    ):
        await wait_for_assignment(orders)
        await wait_for_assignment(support)
        await _mail(support, "bea@example.de", "Wo bleibt mein Paket? " * 40)
        export = await _export(orders, "bea@example.de")
        answer = export["services"]["support"]
        assert answer["blob_ref"] and export["problems"] == {}
        assert export["document"]["services"]["support"]["tickets"]
        desk, parts = _desk(orders)
        chunks = parts.db[f"{parts.bucket}.chunks"]
        blob = await parts.get(answer["blob_ref"])
        assert blob is not None

        # the same length, one byte changed: the digest no longer matches
        changed = blob.data.replace(b"Paket", b"Pakez", 1)
        await chunks.update_one(
            {"files_id": ObjectId(answer["blob_ref"]), "n": 0}, {"$set": {"data": changed}}
        )
        shown = await orders.client.get(f"/privacy/requests/{export['id']}")
        assert shown.status_code == 200
        body = shown.json()
        assert body["status"] == "complete"  # every service answered ...
        assert "SHA-256" in body["problems"]["support"] and "changed" in body["problems"]["support"]
        assert body["services"]["support"]["problem"] == body["problems"]["support"]
        assert body["document"]["complete"] is False  # ... but the document is not whole
        assert body["document"]["services"]["support"] is None
        assert body["document"]["services"]["orders"] is not None
        download = await orders.client.get(f"/privacy/requests/{export['id']}/document")
        assert download.status_code == 200 and "support" in download.json()["problems"]
        summary = await orders.client.get(f"/privacy/requests/{export['id']}/summary")
        assert summary.status_code == 200 and "Pakez" not in summary.text

        await parts.delete(answer["blob_ref"])
        missing = (await orders.client.get(f"/privacy/requests/{export['id']}")).json()
        assert "missing" in missing["problems"]["support"]
        assert missing["document"]["complete"] is False

        # a second export of hers: its part stays until the request's retention ends
        again = await _export(orders, "bea@example.de")
        kept = again["services"]["support"]["blob_ref"]
        orphan = await parts.put(  # as left by a transaction that failed after the write
            b"{}",
            filename="orphan.json",
            content_type="application/json",
            metadata={"request_id": again["id"], "service": "support"},
        )
        now = datetime.now(UTC)
        assert await sweep_export_parts(desk, clock=lambda: now) == 1
        assert await parts.get(orphan) is None and await parts.get(kept) is not None
        later = now + desk.keep_for + timedelta(seconds=1)
        assert await sweep_export_parts(desk, clock=lambda: later) == 1
        assert await parts.get(kept) is None
