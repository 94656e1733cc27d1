"""The dashboard's login: a token given once in the address becomes a session cookie."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from kontor_servicekit.uow import Transactor

from kontor_analytics.application.unit_of_work import AnalyticsUnitOfWork


def digest(cookie: str) -> str:
    """What is stored of a session cookie: its SHA-256 (a database copy opens nothing)."""
    return hashlib.sha256(cookie.encode()).hexdigest()


async def open_dashboard_session(
    transactor: Transactor[AnalyticsUnitOfWork],
    *,
    subject: str,
    scopes: list[str],
    now: datetime,
    lasts: timedelta,
) -> str:
    """A new session for ``subject``; the cookie value (random, 256 bits)."""
    cookie = secrets.token_urlsafe(32)

    async def work(uow: AnalyticsUnitOfWork) -> None:
        await uow.dashboard_sessions.add(
            digest(cookie), subject=subject, scopes=scopes, expires_at=now + lasts
        )

    await transactor.run(work)
    return cookie
