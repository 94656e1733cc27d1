"""Suppressed addresses (``suppressions``, ``_id`` the normalised e-mail)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from kontor_servicekit.store import Transaction

from kontor_marketing.domain.feedback import Suppression

SUPPRESSIONS = "suppressions"


def from_document(doc: dict[str, Any]) -> Suppression:
    return Suppression(email=doc["_id"], **{k: v for k, v in doc.items() if k != "_id"})


class MongoSuppressions:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.collection = tx.db[SUPPRESSIONS]

    async def get(self, email: str) -> Suppression | None:
        doc = await self.collection.find_one({"_id": email}, session=self.tx.session)
        return None if doc is None else from_document(doc)

    async def add(self, suppression: Suppression) -> bool:
        """Keep the first reason an address was suppressed for; False if it was."""
        doc = asdict(suppression)
        doc["_id"] = doc.pop("email")
        done = await self.collection.update_one(
            {"_id": doc["_id"]}, {"$setOnInsert": doc}, upsert=True, session=self.tx.session
        )
        return done.upserted_id is not None

    async def delete(self, email: str) -> bool:
        done = await self.collection.delete_one({"_id": email}, session=self.tx.session)
        return done.deleted_count > 0
