"""What marketing's aggregates record when they change (``kontor_servicekit.aggregate``).

Frozen dataclasses; ``application/`` turns each into the contract event it announces.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ConsentRequested:
    """Topics wait for the double opt-in: a confirmation mail goes out (no event)."""

    email: str
    topics: tuple[str, ...]
    request_id: str
    locale: str


@dataclass(frozen=True)
class ConsentConfirmed:
    email: str
    topics: tuple[str, ...]
    confirmed_topics: tuple[str, ...]
    at: datetime


@dataclass(frozen=True)
class ConsentWithdrawn:
    email: str
    topics: tuple[str, ...]
    confirmed_topics: tuple[str, ...]
    at: datetime
    source: str
