"""Campaigns (``campaigns``) and their engagements (``engagements``)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from kontor_servicekit.store import Transaction

from kontor_marketing.domain.campaign import Campaign, Engagement

CAMPAIGNS = "campaigns"
ENGAGEMENTS = "engagements"


def to_document(campaign: Campaign) -> dict[str, Any]:
    doc = asdict(campaign)
    doc["_id"] = doc.pop("id")
    return doc


def from_document(doc: dict[str, Any]) -> Campaign:
    fields = {k: v for k, v in doc.items() if k != "_id"}
    fields["cost"] = Decimal(str(fields.get("cost", "0")))
    return Campaign(id=doc["_id"], **fields)


class MongoCampaignRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.collection = tx.db[CAMPAIGNS]

    async def get(self, campaign_id: str) -> Campaign | None:
        doc = await self.collection.find_one({"_id": campaign_id}, session=self.tx.session)
        return None if doc is None else from_document(doc)

    async def save(self, campaign: Campaign) -> None:
        await self.collection.replace_one(
            {"_id": campaign.id}, to_document(campaign), upsert=True, session=self.tx.session
        )

    async def due(self, now: datetime) -> list[Campaign]:
        found = self.collection.find(
            {"status": "scheduled", "send_at": {"$lte": now}}, session=self.tx.session
        )
        return [from_document(d) for d in await found.to_list(None)]


class MongoEngagementLog:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.collection = tx.db[ENGAGEMENTS]

    async def add(self, engagement: Engagement) -> None:
        await self.collection.insert_one(asdict(engagement), session=self.tx.session)

    async def delete_of(self, email: str) -> int:
        done = await self.collection.delete_many({"email": email}, session=self.tx.session)
        return done.deleted_count
