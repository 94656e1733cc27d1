"""Every collection an export or erasure reads by e-mail has an index on it (issue 13):
without one, a data request scans the whole collection inside the request's transaction.
The list is what ``application/privacy.py`` asks for, by the field each repository
filters on."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.integration

BY_EMAIL = {
    "mails": "to",
    "engagements": "email",
    "conversions": "email",
    "segment_entries": "email",
    "stock_alerts": "email",
    "coupon_pool_codes": "email",
}


async def test_what_a_data_request_reads_by_e_mail_is_indexed(start_service: Any) -> None:
    async with start_service("marketing") as marketing:
        db = marketing.kit.store.db
        missing = []
        for collection, field in BY_EMAIL.items():
            indexes = await db[collection].index_information()
            if not any(spec["key"][0][0] == field for spec in indexes.values()):
                missing.append(f"{collection}.{field}")
        assert missing == []
