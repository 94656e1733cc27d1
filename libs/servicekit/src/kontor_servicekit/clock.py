"""Time: the clock every use case takes "now" from, and the time as MongoDB stores it.

Use cases never call ``datetime.now``: they get a :data:`Clock` (a callable that
returns the current, timezone-aware moment) from their composition root, so tests
can move time (a 15th day of a withdrawal, the turn of a numbering year) through
the same code paths that production runs.

BSON dates have millisecond precision. A timestamp that is returned to a client and
also stored must be cut to milliseconds first, or the answer to a POST and a later
GET of the same resource disagree.

This module is pure (standard library only), so domain code may import it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["BERLIN", "Clock", "FakeClock", "iso_utc", "micros", "utc_now"]

#: The merchant's time zone: business days, deadlines and numbering years are German.
BERLIN = ZoneInfo("Europe/Berlin")

Clock = Callable[[], datetime]
"""Returns the current moment, timezone-aware. :func:`utc_now` is the real one."""


def utc_now() -> datetime:
    """Now, timezone-aware (UTC), truncated to milliseconds."""
    return _to_millis(datetime.now(UTC))


def _to_millis(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class FakeClock:
    """A clock for tests: stands still until it is moved."""

    def __init__(self, start: datetime | None = None) -> None:
        moment = start or utc_now()
        if moment.tzinfo is None:
            raise ValueError("time must be timezone-aware")
        self.moment = _to_millis(moment)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward (or back, with a negative delta)."""
        self.moment = _to_millis(self.moment + delta)
        return self.moment

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("time must be timezone-aware")
        self.moment = _to_millis(moment)


def micros(moment: datetime) -> int:
    """Microseconds since the epoch: an exact, sortable key for event times."""
    if moment.tzinfo is None:
        raise ValueError("time must be timezone-aware")
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def iso_utc(moment: datetime) -> str:
    """The one written form of a moment in answers and problem details: ISO 8601 in UTC
    with ``Z`` (``2026-06-15T21:59:59.999000Z``), whatever zone it was computed in."""
    if moment.tzinfo is None:
        raise ValueError("time must be timezone-aware")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
