"""When an order's retention starts (ADR 0076): 1 January, Berlin, after the newest moment
anywhere in the record, and its TTL never before the years have run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from kontor_orders.store.retention import retention_from, ttl_seconds, with_retention_from
from kontor_servicekit.clock import BERLIN

pytestmark = pytest.mark.unit


def test_the_newest_moment_counts_in_berlin_also_nested_and_naive_as_utc() -> None:
    doc = {
        "placed_at": datetime(2026, 3, 1, tzinfo=UTC),
        # naive, as BSON reads back: UTC, so 1 January 00:30 in Berlin
        "timeline": [{"at": datetime(2026, 12, 31, 23, 30, tzinfo=UTC).replace(tzinfo=None)}],
        "retention_from": datetime(2000, 1, 1, tzinfo=UTC),  # its own old value: ignored
    }
    assert retention_from(doc) == datetime(2028, 1, 1, tzinfo=BERLIN)
    doc["timeline"] = [{"at": datetime(2026, 12, 31, 22, 30, tzinfo=UTC)}]  # 23:30 Berlin
    assert with_retention_from(doc)["retention_from"] == datetime(2027, 1, 1, tzinfo=BERLIN)
    assert retention_from({"_id": "x", "status": "placed"}) is None


def test_the_ttl_never_ends_before_the_years_have_run() -> None:
    start = datetime(2027, 1, 1, tzinfo=BERLIN)
    for years in (6, 7, 10):
        end = start + timedelta(seconds=ttl_seconds(years))
        assert end >= start.replace(year=start.year + years)
        assert end - start.replace(year=start.year + years) < timedelta(days=years)
