"""What analytics's use cases need of the database.

Implemented over MongoDB in ``store/unit_of_work.py``. Each repository the features
need is a Protocol here and an attribute of :class:`AnalyticsUnitOfWork`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from kontor_servicekit.uow import UnitOfWork

from kontor_analytics.domain.alerts import Rule
from kontor_analytics.domain.collect import RawEvent
from kontor_analytics.domain.sessions import ClientState, Session


class RawEventRepository(Protocol):
    async def add(self, events: Sequence[RawEvent]) -> None: ...

    async def of_clients(self, clients: Sequence[str]) -> dict[str, list[RawEvent]]:
        """Every stored event of each client, oldest first."""
        ...


class SessionRepository(Protocol):
    async def client(self, client_id: str) -> ClientState | None: ...

    async def save_client(self, state: ClientState) -> None: ...

    async def get(self, key: str) -> Session | None: ...

    async def save(self, session: Session) -> None: ...

    async def add_many(self, sessions: Sequence[Session]) -> None:
        """Store new sessions (none of them stored yet)."""
        ...

    async def forget_clients(self, clients: Sequence[str]) -> int:
        """Delete the clients' sessions and states; how many sessions."""
        ...


class AnalyticsUnitOfWork(UnitOfWork, Protocol):
    """Raw collected events and the sessions made of them, plus outbox and sequences."""

    raw_events: RawEventRepository
    sessions: SessionRepository
    facts: FactRepository
    dashboard_sessions: DashboardSessionRepository
    alerts: AlertRepository
    privacy: PrivacyRepository


class FactRepository(Protocol):
    """The read models of the other services' facts (``store/facts.py``)."""

    async def order_placed(self, order_id: str, values: dict[str, Any]) -> None: ...
    async def order_state(self, order_id: str, field: str, at: datetime) -> None: ...
    async def order_shipped(self, order_id: str, at: datetime) -> None: ...
    async def order_delivered(self, order_id: str, at: datetime) -> None: ...
    async def return_requested(
        self, order_id: str, return_id: str, lines: list[dict[str, Any]], at: datetime
    ) -> None: ...
    async def return_completed(
        self, order_id: str, return_id: str, refund: Decimal, at: datetime
    ) -> None: ...
    async def product(self, sku: str, values: dict[str, Any]) -> None: ...
    async def stock(self, sku: str, warehouse: str, on_hand: int, at: datetime) -> None: ...
    async def invoice_issued(self, invoice_id: str, values: dict[str, Any]) -> None: ...
    async def invoice_paid(self, invoice_id: str, at: datetime) -> None: ...
    async def invoice_overdue(self, invoice_id: str, level: int | None, at: datetime) -> None: ...


class DashboardSessionRepository(Protocol):
    async def add(
        self, digest: str, *, subject: str, scopes: list[str], expires_at: datetime
    ) -> None: ...


class AlertRepository(Protocol):
    async def add_rule(self, rule: Rule, created_at: datetime) -> None: ...
    async def delete_rule(self, rule_id: str) -> bool: ...
    async def breached(self, key: str) -> bool: ...
    async def set_state(self, key: str, values: dict[str, Any]) -> None: ...


class PrivacyRepository(Protocol):
    async def identities(self, email: str, email_hash: str) -> tuple[list[str], list[str]]: ...
    async def export(self, clients: list[str], email_hash: str) -> dict[str, Any]: ...
    async def erase(self, clients: list[str], email_hash: str) -> dict[str, int]: ...
