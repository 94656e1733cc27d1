"""Quiet hours for the marketing integration tests, placed by the wall clock: every
campaign and flow mail waits out the quiet hours (ADR 0119), so a test that expects its
mail now must run outside them, and the test of the rule inside them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kontor_servicekit.clock import BERLIN


def quiet_hours_not_now(hours_ahead: int = 3) -> str:
    """A one-hour ``quiet_hours`` setting starting ``hours_ahead`` hours from now."""
    start = datetime.now(UTC).astimezone(BERLIN) + timedelta(hours=hours_ahead)
    return f"{start:%H:%M}-{start + timedelta(hours=1):%H:%M}"


def quiet_hours_around_now() -> tuple[str, datetime]:
    """A ``quiet_hours`` setting from an hour ago to an hour from now (whole minutes),
    and the moment they end."""
    now = datetime.now(UTC).astimezone(BERLIN).replace(second=0, microsecond=0)
    start, end = now - timedelta(hours=1), now + timedelta(hours=1)
    return f"{start:%H:%M}-{end:%H:%M}", end.astimezone(UTC)
