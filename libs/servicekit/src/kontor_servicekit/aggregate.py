"""Aggregates record what happened; the application turns it into contract events.

An aggregate (an order, a product, an invoice) does not publish anything and does
not answer "True if confirmed now": each change it makes appends a small domain
event (a frozen dataclass of the service's ``domain/events.py``) with
:meth:`RecordsEvents.record`. The use case that saved the aggregate takes them with
:meth:`RecordsEvents.pull_events` and emits the matching contract events to the
unit of work's outbox. A change that does nothing (a second confirmation) records
nothing, so nothing is published twice.

Pure (standard library only): domain code imports this module.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RecordsEvents"]


class RecordsEvents:
    """Mixin for aggregates: an ordered list of the domain events of pending changes.

    Works with plain classes and (non-slotted) dataclasses alike: the list lives in
    the instance ``__dict__`` under a private name and is not a dataclass field, so
    it takes no part in equality, ``repr`` or persistence.
    """

    def record(self, event: Any) -> None:
        """Append ``event`` to what this aggregate has caused since the last pull."""
        self.__dict__.setdefault("_recorded_events", []).append(event)

    @property
    def recorded_events(self) -> tuple[Any, ...]:
        """What has been recorded and not pulled yet (read only)."""
        return tuple(self.__dict__.get("_recorded_events", ()))

    def pull_events(self) -> list[Any]:
        """Take the recorded events, oldest first; the list is empty afterwards."""
        events: list[Any] = self.__dict__.pop("_recorded_events", [])
        return events
