"""Failed outbox rows in the admin API and in /metrics, on a service built by the kit alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from bson import ObjectId
from kontor_contracts.samples import order_placed_envelope
from kontor_servicekit.clock import utc_now
from kontor_servicekit.service import Kit, ServiceDefinition, create_service_app
from kontor_servicekit.settings import ServiceSettings
from kontor_servicekit.store import OUTBOX
from kontor_servicekit.testing import Keys, eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def service(kit_settings: ServiceSettings) -> AsyncIterator[tuple[httpx.AsyncClient, Kit]]:
    app = create_service_app(
        ServiceDefinition(settings=kit_settings, title="kit only", description="no routes")
    )
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        kit: Kit = app.state.kit
        async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
            try:
                yield client, kit
            finally:
                await kit.store.client.drop_database(kit.store.db.name)


def _failed_row(**fields: Any) -> dict[str, Any]:
    envelope = order_placed_envelope()
    now = utc_now()
    row = {
        "_id": str(envelope.id),
        "seq": ObjectId(),
        "topic": "orders.order.v1",
        "key": envelope.aggregate_id,
        "value": envelope.to_bytes().decode(),
        "type": envelope.type,
        "status": "failed",
        "created_at": now - timedelta(minutes=5),
        "trace": {},
        "attempts": 5,
        "last_error": "MessageSizeTooLargeError: too big",
        "last_attempt_at": now,
        "next_attempt_at": None,
    }
    row.update(fields)
    return row


def _gauge(metrics: str, name: str) -> float:
    [line] = [line for line in metrics.splitlines() if line.startswith(f"{name} ")]
    return float(line.split()[1])


async def test_failed_rows_are_listed_counted_and_retried(
    service: tuple[httpx.AsyncClient, Kit], auth_keys: Keys
) -> None:
    client, kit = service
    row = _failed_row()
    await kit.store.db[OUTBOX].insert_one(row)
    admin = {"Authorization": f"Bearer {auth_keys.token('orders:admin')}"}
    reader = {"Authorization": f"Bearer {auth_keys.token('orders:read')}"}

    assert (await client.get("/admin/outbox/failures")).status_code == 401
    assert (await client.get("/admin/outbox/failures", headers=reader)).status_code == 403
    retry_url = f"/admin/outbox/failures/{row['_id']}/retry"
    assert (await client.post(retry_url, headers=reader)).status_code == 403

    listed = await client.get("/admin/outbox/failures", headers=admin)
    assert listed.status_code == 200, listed.text
    assert (listed.json()["total"], listed.json()["page"]) == (1, 1)  # the kit's list shape
    [view] = listed.json()["items"]
    assert view["id"] == row["_id"]
    assert (view["status"], view["attempts"], view["next_attempt_at"]) == ("failed", 5, None)
    assert view["last_error"] == "MessageSizeTooLargeError: too big"
    assert (view["topic"], view["key"], view["type"]) == (
        "orders.order.v1",
        row["key"],
        "OrderPlaced",
    )

    metrics = (await client.get("/metrics")).text
    assert _gauge(metrics, "kontor_outbox_failed") == 1.0
    assert _gauge(metrics, "kontor_outbox_backlog") == 1.0

    missing = await client.post("/admin/outbox/failures/no-such-row/retry", headers=admin)
    assert missing.status_code == 404
    retried = await client.post(retry_url, headers=admin)
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] in ("pending", "in_flight", "sent")  # the relay was woken
    assert retried.json()["manual_retries"] == 1

    async def sent() -> bool:
        doc = await kit.store.db[OUTBOX].find_one({"_id": row["_id"]})
        return doc is not None and doc["status"] == "sent"

    await eventually(sent, timeout=15)
    again = await client.post(retry_url, headers=admin)
    assert again.status_code == 409
    assert again.json()["current_state"] == "sent"
    assert (await client.get("/admin/outbox/failures", headers=admin)).json()["items"] == []
    metrics = (await client.get("/metrics")).text
    assert _gauge(metrics, "kontor_outbox_failed") == 0.0
    assert _gauge(metrics, "kontor_outbox_backlog") == 0.0

    spec = (await client.get("/openapi.json")).json()
    assert {"/admin/outbox/failures", "/admin/outbox/failures/{row_id}/retry"} <= set(spec["paths"])
