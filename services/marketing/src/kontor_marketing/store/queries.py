"""Marketing's read side: what the routes show, answered straight from the database."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from kontor_marketing.domain.consent import Consent
from kontor_marketing.store.consents import CONSENTS
from kontor_marketing.store.consents import from_document as consent_of


class MarketingQueries:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.db = db

    async def consent(self, email: str) -> Consent | None:
        doc = await self.db[CONSENTS].find_one({"_id": email})
        return None if doc is None else consent_of(doc)
