"""What analytics's use cases need of the database.

Implemented over MongoDB in ``store/unit_of_work.py``. Each repository the features
need is a Protocol here and an attribute of :class:`AnalyticsUnitOfWork`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from kontor_servicekit.uow import UnitOfWork

from kontor_analytics.domain.collect import RawEvent
from kontor_analytics.domain.sessions import ClientState, Session


class RawEventRepository(Protocol):
    async def add(self, events: Sequence[RawEvent]) -> None: ...

    async def of_client(self, client_id: str) -> list[RawEvent]:
        """Every stored event of the client, oldest first."""
        ...


class SessionRepository(Protocol):
    async def client(self, client_id: str) -> ClientState | None: ...

    async def save_client(self, state: ClientState) -> None: ...

    async def get(self, key: str) -> Session | None: ...

    async def save(self, session: Session) -> None: ...

    async def forget_client(self, client_id: str) -> int:
        """Delete the client's sessions and state; how many sessions."""
        ...


class AnalyticsUnitOfWork(UnitOfWork, Protocol):
    """Raw collected events and the sessions made of them, plus outbox and sequences."""

    raw_events: RawEventRepository
    sessions: SessionRepository
