"""How long orders keeps its records (issue 13, ADR 0076), and the deletion on time.

- **Orders, returns and withdrawals**: the contract of sale and its handling are business
  letters received and sent (§147 (1) Nr. 2, 3 AO, §257 HGB: six years), which also
  outlast every claim from them (withdrawal, warranty two years from delivery, §438 BGB;
  the regular limitation three years from the end of the year, §§195, 199 BGB).
  ``order_keep_years`` (default 6, at least 6).
- **Complaints**: the same for the complaint record (``complaint_keep_years``, 6); its
  photos go with it: a photo no complaint refers to is deleted by the sweep of
  ``photos.delete_orphaned_photos`` once it is a day old (an upload the customer never
  filed, or the photo of a complaint the TTL removed). GridFS files cannot carry a TTL
  (their chunks would stay).

Counted as the law counts: from the end of the calendar year (Berlin) of the record's
last change. Every document carries ``retention_from``, 1 January after its newest
moment, written with it (``with_retention_from``); the TTL index expires it ``years``
x 366 days later, so never before the period has run, and at most a few days after
(``indexes.py``; records stored before get theirs from a migration).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any

from kontor_servicekit.clock import BERLIN
from kontor_servicekit.store import DAY_S

RETENTION_FROM = "retention_from"
LEGAL_MINIMUM_YEARS = 6


def _moments(value: Any) -> Iterator[datetime]:
    """Every moment in ``value``; a naive one is UTC (as BSON stores it)."""
    if isinstance(value, datetime):
        yield value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _moments(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _moments(v)


def retention_from(doc: dict[str, Any]) -> datetime | None:
    """1 January (Berlin) after the newest moment anywhere in ``doc``; None without any."""
    newest = max(_moments({k: v for k, v in doc.items() if k != RETENTION_FROM}), default=None)
    if newest is None:
        return None
    return datetime.combine(date(newest.astimezone(BERLIN).year + 1, 1, 1), time(), BERLIN)


def with_retention_from(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with its ``retention_from``: what each kept kind's ``to_document`` returns."""
    return {**doc, RETENTION_FROM: retention_from(doc)}


def ttl_seconds(years: int) -> int:
    """The TTL of ``years``: 366 days each, so never before the period has run."""
    return years * 366 * DAY_S
