"""What support's aggregates record when they change (``kontor_servicekit.aggregate``).

Frozen dataclasses; ``application/`` turns each into the contract event it announces.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class TicketWasOpened:
    ticket_id: str


@dataclass(frozen=True)
class TicketWasChanged:
    """State, priority, assignee, group or tags changed (``fields`` names which)."""

    ticket_id: str
    fields: tuple[str, ...]
    note: str | None = None


@dataclass(frozen=True)
class TicketWasSolved:
    ticket_id: str
    at: datetime
    resolution: str


@dataclass(frozen=True)
class SlaWasBreached:
    ticket_id: str
    target: str  # first_response, next_response, resolution
    due_at: datetime
    at: datetime
