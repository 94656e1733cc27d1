"""The merchant's choice of document language per buyer e-mail (``buyer_languages``)."""

from __future__ import annotations

from typing import Any

from kontor_servicekit.store import Transaction
from pymongo.asynchronous.database import AsyncDatabase

BUYER_LANGUAGES = "buyer_languages"


class MongoBuyerLanguages:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def get(self, email: str) -> str | None:
        doc = await self.tx.db[BUYER_LANGUAGES].find_one(
            {"_id": email.lower()}, session=self.tx.session
        )
        return None if doc is None else str(doc["language"])

    async def set(self, email: str, language: str) -> None:
        await self.tx.db[BUYER_LANGUAGES].replace_one(
            {"_id": email.lower()},
            {"_id": email.lower(), "language": language},
            upsert=True,
            session=self.tx.session,
        )


class BuyerLanguageQueries:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.db = db

    async def of(self, email: str) -> str | None:
        doc = await self.db[BUYER_LANGUAGES].find_one({"_id": email.lower()})
        return None if doc is None else str(doc["language"])
