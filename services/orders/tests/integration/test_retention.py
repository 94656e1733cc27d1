"""How long orders keeps what (issue 13, retention): carts and the kit's collections by
setting, privacy requests by their own expiry, orders, returns, withdrawals and
complaints by years after their last year (ADR 0076), complaint photos with them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kontor_orders.store.migrations import add_retention_from
from kontor_servicekit.clock import BERLIN
from kontor_servicekit.testing import eventually, wait_for_assignment

from .test_returns_api import JPEG, PNG, delivered_order, move_to, seed, upload_photo

pytestmark = pytest.mark.integration


def as_utc(moment: datetime) -> datetime:
    """A moment read back from the database (naive UTC) as an aware one."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def test_carts_and_dead_letters_expire_after_the_configured_days(start_service: Any) -> None:
    async with start_service("orders", cart_keep_days=2, dead_letter_keep_days=14) as orders:
        db = orders.kit.store.db
        carts = await db["carts"].index_information()
        assert carts["cart_ttl"]["key"] == [("last_activity_at", 1)]
        assert carts["cart_ttl"]["expireAfterSeconds"] == 2 * 86400
        parked = await db["dead_letters"].index_information()
        assert parked["dead_letter_ttl"]["expireAfterSeconds"] == 14 * 86400
        requests = await db["privacy_requests"].index_information()
        assert requests["privacy_expired"]["expireAfterSeconds"] == 0


async def test_orders_and_complaints_expire_years_after_their_year_and_orphan_photos_go(
    start_service: Any, infra: Any, namespace: str
) -> None:
    """ADR 0076: TTLs on ``retention_from`` by setting; an order delivered in June 2026
    counts from 1 January 2027 (Berlin); a photo no complaint refers to goes a day after
    its upload, the complaint's own photo only once the complaint is gone; records stored
    before retention existed get theirs from the migration."""
    async with start_service(
        "orders", order_keep_years=7, complaint_keep_years=8, photo_sweep_interval_s=0.1
    ) as orders:
        await wait_for_assignment(orders)
        db = orders.kit.store.db
        for collection, name, years in (
            ("orders", "order_retention", 7),
            ("returns", "return_retention", 7),
            ("withdrawals", "withdrawal_retention", 7),
            ("complaints", "complaint_retention", 8),
        ):
            index = (await db[collection].index_information())[name]
            assert index["key"] == [("retention_from", 1)]
            assert index["expireAfterSeconds"] == years * 366 * 86400
        await seed(orders)
        order = await delivered_order(orders, infra, namespace)  # June 2026
        new_year = datetime(2027, 1, 1, tzinfo=BERLIN)
        stored = await db["orders"].find_one({"_id": order["id"]})
        assert as_utc(stored["retention_from"]) == new_year

        kept, stray = await upload_photo(orders, JPEG), await upload_photo(orders, PNG)
        body = {"order_id": order["id"], "line_no": 1, "description": "Naht offen"}
        filed = await orders.client.post("/complaints", json={**body, "photo_ids": [kept]})
        assert filed.status_code == 201, filed.text
        complaint = await db["complaints"].find_one({"_id": filed.json()["id"]})
        assert as_utc(complaint["retention_from"]) == new_year

        async def photos() -> set[str]:
            return {str(d["_id"]) async for d in db["complaint_photos.files"].find({})}

        assert await photos() == {kept, stray}  # young: the sweep leaves both
        move_to(orders, datetime.now(UTC) + timedelta(days=2))

        async def only(wanted: set[str]) -> bool:
            return await photos() == wanted

        await eventually(lambda: only({kept}), timeout=10)
        await db["complaints"].delete_one({"_id": complaint["_id"]})  # as its TTL will
        await eventually(lambda: only(set()), timeout=10)
        assert await db["complaint_photos.chunks"].count_documents({}) == 0

        # an order stored before retention existed: the migration gives it its date
        await db["orders"].update_one({"_id": order["id"]}, {"$unset": {"retention_from": 1}})
        await add_retention_from(orders.kit.store)
        again = await db["orders"].find_one({"_id": order["id"]})
        assert as_utc(again["retention_from"]) == new_year
