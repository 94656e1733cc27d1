"""Analytics's read side: what the routes show, answered straight from the database."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase


class AnalyticsQueries:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.db = db
