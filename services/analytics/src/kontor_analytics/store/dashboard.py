"""Dashboard sessions: what the HttpOnly cookie stands for (only its hash is stored)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kontor_servicekit.store import Transaction

DASHBOARD_SESSIONS = "dashboard_sessions"


class MongoDashboardSessionRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.sessions = tx.db[DASHBOARD_SESSIONS]

    async def add(
        self, digest: str, *, subject: str, scopes: list[str], expires_at: datetime
    ) -> None:
        doc: dict[str, Any] = {
            "_id": digest,
            "subject": subject,
            "scopes": scopes,
            "expires_at": expires_at,
        }
        await self.sessions.insert_one(doc, session=self.tx.session)
