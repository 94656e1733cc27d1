"""Campaigns (``campaigns``) and their engagements (``engagements``)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from kontor_servicekit.store import Transaction

from kontor_marketing.domain.campaign import Campaign, Engagement
from kontor_marketing.domain.results import Conversion

CAMPAIGNS = "campaigns"
ENGAGEMENTS = "engagements"
CONVERSIONS = "conversions"


def to_document(campaign: Campaign) -> dict[str, Any]:
    doc = asdict(campaign)
    doc["_id"] = doc.pop("id")
    return doc


def from_document(doc: dict[str, Any]) -> Campaign:
    fields = {k: v for k, v in doc.items() if k != "_id"}
    fields["cost"] = Decimal(str(fields.get("cost", "0")))
    fields["ab_sample"] = Decimal(str(fields.get("ab_sample", "0")))
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

    async def by_coupon(self, code: str) -> Campaign | None:
        found = self.collection.find(
            {"coupon_code": code, "status": "sent"}, session=self.tx.session
        ).sort("sent_at", -1)
        docs = await found.limit(1).to_list(None)
        return from_document(docs[0]) if docs else None

    async def due(self, now: datetime) -> list[Campaign]:
        found = self.collection.find(
            {
                "$or": [
                    {"status": "scheduled", "send_at": {"$lte": now}},
                    {"status": "testing", "decide_at": {"$lte": now}},
                ]
            },
            session=self.tx.session,
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

    async def last_click(self, email: str, since: datetime, before: datetime) -> Engagement | None:
        found = self.collection.find(
            {"email": email, "kind": "click", "at": {"$gte": since, "$lte": before}},
            session=self.tx.session,
        ).sort("at", -1)
        docs = await found.limit(1).to_list(None)
        return _engagement(docs[0]) if docs else None

    async def people(self, campaign_id: str, kind: str) -> dict[str, int]:
        rows = await self.collection.aggregate(
            [
                {"$match": {"campaign_id": campaign_id, "kind": kind}},
                {"$group": {"_id": {"v": "$variant", "e": "$email"}}},
                {"$group": {"_id": "$_id.v", "n": {"$sum": 1}}},
            ],
            session=self.tx.session,
        )
        return {str(row["_id"]): int(row["n"]) async for row in rows}

    async def all_of(self, email: str) -> list[Engagement]:
        docs = self.collection.find({"email": email}, session=self.tx.session).sort("at", 1)
        return [_engagement(d) async for d in docs]

    async def of(self, emails: list[str] | None, since: datetime) -> list[Engagement]:
        query: dict[str, Any] = {"kind": {"$in": ["open", "click"]}, "at": {"$gte": since}}
        if emails is not None:
            query["email"] = {"$in": emails}
        docs = await self.collection.find(query, session=self.tx.session).to_list(None)
        return [_engagement(d) for d in docs]


def _engagement(doc: dict[str, Any]) -> Engagement:
    return Engagement(
        campaign_id=doc["campaign_id"],
        email=doc["email"],
        kind=doc["kind"],
        at=doc["at"],
        url=doc.get("url"),
        variant=doc.get("variant"),
    )


class MongoConversions:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.collection = tx.db[CONVERSIONS]

    async def get(self, order_id: str) -> Conversion | None:
        doc = await self.collection.find_one({"_id": order_id}, session=self.tx.session)
        return None if doc is None else conversion_of(doc)

    async def save(self, conversion: Conversion) -> None:
        doc = asdict(conversion)
        doc["_id"] = doc.pop("order_id")
        await self.collection.replace_one(
            {"_id": conversion.order_id}, doc, upsert=True, session=self.tx.session
        )

    async def of(self, email: str) -> list[Conversion]:
        docs = self.collection.find({"email": email}, session=self.tx.session).sort("at", 1)
        return [conversion_of(d) async for d in docs]

    async def delete_of(self, email: str) -> int:
        done = await self.collection.delete_many({"email": email}, session=self.tx.session)
        return done.deleted_count


def conversion_of(doc: dict[str, Any]) -> Conversion:
    fields = {k: v for k, v in doc.items() if k != "_id"}
    fields["gross"] = Decimal(str(fields["gross"]))
    fields["refunded"] = Decimal(str(fields.get("refunded", "0")))
    return Conversion(order_id=doc["_id"], **fields)
