"""How long orders keeps what (issue 13, retention): carts and the kit's collections by
setting, privacy requests by their own expiry."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.integration


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
