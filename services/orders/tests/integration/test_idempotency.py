"""Idempotency-Key on POST /orders over the real database (ADR 0015).

Same key and body: the first answer again (status, body, Location), one order, one
event. Same key, other body: 422. Concurrent duplicates: one effect; the others get
the first answer or 409. A failed request frees its key. Expired keys count as new.
"""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.samples import ORDER
from kontor_orders.api.orders import OrderIn
from kontor_servicekit.idempotency import fingerprint
from kontor_servicekit.store import IDEMPOTENCY, OUTBOX

pytestmark = pytest.mark.integration


async def _seed(orders: Any) -> None:
    await orders.kit.store.db["catalog_products"].insert_one(
        {
            "_id": "TEE-RED-M",
            "name": "T-Shirt rot, M",
            "price_net": Decimal("19.99"),
            "vat_rate": Decimal("0.19"),
            "vat_class": "standard",
            "currency": "EUR",
            "discontinued": False,
            "as_of": datetime.now(UTC),
        }
    )


async def _counts(orders: Any) -> tuple[int, int]:
    db = orders.kit.store.db
    return await db["orders"].count_documents({}), await db[OUTBOX].count_documents({})


async def test_a_retry_replays_the_first_answer_and_a_changed_body_is_422(
    start_service: Any,
) -> None:
    async with start_service("orders") as orders:
        await _seed(orders)
        key = {"Idempotency-Key": "8e03978e-40d5-43e8-bc93-6894a57f9324"}
        first = await orders.client.post("/orders", json=ORDER, headers=key)
        assert first.status_code == 201, first.text
        assert first.headers["location"] == f"/orders/{first.json()['id']}"
        again = await orders.client.post("/orders", json=ORDER, headers=key)
        assert again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["location"] == first.headers["location"]
        assert again.headers["idempotent-replayed"] == "true"
        assert await _counts(orders) == (1, 1)

        other = copy.deepcopy(ORDER)
        other["lines"][0]["quantity"] = 3
        reused = await orders.client.post("/orders", json=other, headers=key)
        assert reused.status_code == 422, reused.text
        assert await _counts(orders) == (1, 1)

        # without a key every request is its own
        assert (await orders.client.post("/orders", json=ORDER)).status_code == 201
        assert await _counts(orders) == (2, 2)


async def test_a_refused_request_frees_its_key_and_an_expired_key_is_new(
    start_service: Any,
) -> None:
    async with start_service("orders") as orders:
        key = {"Idempotency-Key": "retry-after-fix"}
        refused = await orders.client.post("/orders", json=ORDER, headers=key)  # unknown SKU
        assert refused.status_code == 422, refused.text
        assert await orders.kit.store.db[IDEMPOTENCY].count_documents({}) == 0
        await _seed(orders)
        placed = await orders.client.post("/orders", json=ORDER, headers=key)
        assert placed.status_code == 201, placed.text

        await orders.kit.store.db[IDEMPOTENCY].update_one(
            {"_id": "retry-after-fix"},
            {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}},
        )
        fresh = await orders.client.post("/orders", json=ORDER, headers=key)
        assert fresh.status_code == 201
        assert fresh.json()["id"] != placed.json()["id"]
        assert await _counts(orders) == (2, 2)
        indexes = await orders.kit.store.db[IDEMPOTENCY].index_information()
        assert indexes["expiry_ttl"]["expireAfterSeconds"] == 0


async def test_concurrent_duplicates_have_one_effect(start_service: Any) -> None:
    async with start_service("orders") as orders:
        await _seed(orders)
        key = {"Idempotency-Key": "burst-1"}
        answers = await asyncio.gather(
            *(orders.client.post("/orders", json=ORDER, headers=key) for _ in range(8))
        )
        statuses = sorted(a.status_code for a in answers)
        assert set(statuses) <= {201, 409}, [a.text for a in answers]
        created = [a.json() for a in answers if a.status_code == 201]
        assert created and all(body == created[0] for body in created)
        assert await _counts(orders) == (1, 1)
        # once the first has finished, every retry replays it
        late = await orders.client.post("/orders", json=ORDER, headers=key)
        assert late.status_code == 201
        assert late.json() == created[0]


async def test_a_claim_in_flight_answers_409(start_service: Any) -> None:
    async with start_service("orders") as orders:
        await _seed(orders)
        now = datetime.now(UTC)
        await orders.kit.store.db[IDEMPOTENCY].insert_one(
            {
                "_id": "slow-one",
                "state": "in_flight",
                "fingerprint": fingerprint("POST", "/orders", OrderIn.model_validate(ORDER)),
                "token": "other-process",
                "claimed_at": now,
                "expires_at": now + timedelta(hours=24),
            }
        )
        busy = await orders.client.post(
            "/orders", json=ORDER, headers={"Idempotency-Key": "slow-one"}
        )
        assert busy.status_code == 409, busy.text
        assert await _counts(orders) == (0, 0)
        # a claim older than the lease belongs to a dead process: taken over
        await orders.kit.store.db[IDEMPOTENCY].update_one(
            {"_id": "slow-one"}, {"$set": {"claimed_at": now - timedelta(minutes=5)}}
        )
        taken = await orders.client.post(
            "/orders", json=ORDER, headers={"Idempotency-Key": "slow-one"}
        )
        assert taken.status_code == 201, taken.text
        assert await _counts(orders) == (1, 1)
