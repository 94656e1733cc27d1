"""Support's migrations (data changes; indexes are ``indexes.py``)."""

from __future__ import annotations

from kontor_servicekit.clock import utc_now
from kontor_servicekit.migrations import Migration
from kontor_servicekit.store import Store

from kontor_support.store.context import CONTEXT_ORDERS, LAST_EVENT_AT


async def add_last_event_at(store: Store) -> None:
    """An order context stored before its retention existed gets ``last_event_at`` of
    the migration's time: it is kept its whole period from now on, never shorter than
    its facts would have given (ADR 0138)."""
    await store.db[CONTEXT_ORDERS].update_many(
        {LAST_EVENT_AT: {"$exists": False}}, {"$set": {LAST_EVENT_AT: utc_now()}}
    )


MIGRATIONS = [
    Migration(
        "0138-context-orders-last-event-at",
        add_last_event_at,
        "order contexts stored before their retention count it from the migration",
    ),
]
