"""The time as MongoDB stores it.

BSON dates have millisecond precision. A timestamp that is returned to a client and
also stored must be cut to milliseconds first, or the answer to a POST and a later
GET of the same resource disagree.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """Now, timezone-aware (UTC), truncated to milliseconds."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def micros(moment: datetime) -> int:
    """Microseconds since the epoch: an exact, sortable key for event times."""
    if moment.tzinfo is None:
        raise ValueError("time must be timezone-aware")
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
