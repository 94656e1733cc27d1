"""Marketing's read side: what the routes show, answered straight from the database."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from kontor_servicekit.store import find_page
from pymongo.asynchronous.database import AsyncDatabase

from kontor_marketing.domain.campaign import Campaign, CampaignResults
from kontor_marketing.domain.consent import Consent
from kontor_marketing.domain.coupon import Coupon
from kontor_marketing.domain.coupon_pool import NO_CODE, CouponPool, PoolCounts
from kontor_marketing.domain.feedback import Suppression
from kontor_marketing.domain.mail import QueuedMail
from kontor_marketing.domain.profile import Profile, Segment
from kontor_marketing.store.campaigns import CAMPAIGNS, CONVERSIONS, ENGAGEMENTS, conversion_of
from kontor_marketing.store.campaigns import from_document as campaign_of
from kontor_marketing.store.consents import CONSENTS
from kontor_marketing.store.consents import from_document as consent_of
from kontor_marketing.store.coupon_pools import POOL_CODES, POOLS, pool_counts, pool_of
from kontor_marketing.store.coupons import COUPONS
from kontor_marketing.store.coupons import from_document as coupon_of
from kontor_marketing.store.mails import MAILS
from kontor_marketing.store.mails import from_document as mail_of
from kontor_marketing.store.profiles import PROFILES, SEGMENTS, segment_of
from kontor_marketing.store.profiles import from_document as profile_of
from kontor_marketing.store.suppressions import SUPPRESSIONS
from kontor_marketing.store.suppressions import from_document as suppression_of


class MarketingQueries:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.db = db

    async def mails_to(self, email: str) -> list[QueuedMail]:
        """Every mail queued for ``email``, oldest first (what the person was sent)."""
        docs = await self.db[MAILS].find({"to": email}).sort("created_at", 1).to_list(None)
        return [mail_of(d) for d in docs]

    async def consent(self, email: str) -> Consent | None:
        doc = await self.db[CONSENTS].find_one({"_id": email})
        return None if doc is None else consent_of(doc)

    async def suppression(self, email: str) -> Suppression | None:
        doc = await self.db[SUPPRESSIONS].find_one({"_id": email})
        return None if doc is None else suppression_of(doc)

    async def suppression_page(self, *, page: int, page_size: int) -> tuple[list[Suppression], int]:
        """Suppressed addresses, newest first."""
        docs, total = await find_page(
            self.db[SUPPRESSIONS], {}, sort=[("at", -1), ("_id", 1)], page=page, page_size=page_size
        )
        return [suppression_of(d) for d in docs], total

    async def coupon(self, code: str) -> Coupon | None:
        doc = await self.db[COUPONS].find_one({"_id": code})
        return None if doc is None else coupon_of(doc)

    async def coupon_pool(self, pool_id: str) -> tuple[CouponPool, PoolCounts] | None:
        """A coupon pool and how many of its codes were generated, handed out, used."""
        doc = await self.db[POOLS].find_one({"_id": pool_id})
        if doc is None:
            return None
        return pool_of(doc), await pool_counts(self.db[POOL_CODES], pool_id)

    async def coupon_page(self, *, page: int, page_size: int) -> tuple[list[Coupon], int]:
        docs, total = await find_page(
            self.db[COUPONS], {}, [("created_at", -1), ("_id", 1)], page=page, page_size=page_size
        )
        return [coupon_of(d) for d in docs], total

    async def profile(self, email: str) -> Profile | None:
        doc = await self.db[PROFILES].find_one({"_id": email})
        return None if doc is None else profile_of(doc)

    async def segment_page(self, *, page: int, page_size: int) -> tuple[list[Segment], int]:
        """A page of segments with their live sizes: one count per segment of the page
        (the index on ``segments``)."""
        docs, total = await find_page(
            self.db[SEGMENTS], {}, [("created_at", -1), ("_id", 1)], page=page, page_size=page_size
        )
        found = [segment_of(d) for d in docs]
        for segment in found:
            segment.size = await self.db[PROFILES].count_documents({"segments": segment.id})
        return found, total

    async def members(self, segment_id: str, *, page: int, page_size: int) -> tuple[list[str], int]:
        docs, total = await find_page(
            self.db[PROFILES],
            {"segments": segment_id},
            [("_id", 1)],
            page=page,
            page_size=page_size,
        )
        return [d["_id"] for d in docs], total

    async def _results(self, ids: list[str]) -> dict[str, CampaignResults]:
        """Results of ``ids`` in two aggregations (a page costs the same for any size)."""
        mails = await self.db[MAILS].aggregate(
            [
                {
                    "$match": {
                        "campaign_id": {"$in": ids},
                        "status": {"$in": ["sent", "skipped"]},
                        f"meta.{NO_CODE}": {"$exists": False},  # skipped at dispatch
                    }
                },
                {"$group": {"_id": {"c": "$campaign_id", "s": "$status"}, "n": {"$sum": 1}}},
            ]
        )
        counts: dict[str, dict[str, int]] = {i: {} for i in ids}
        async for row in mails:
            counts[row["_id"]["c"]][row["_id"]["s"]] = int(row["n"])
        people = await self.db[ENGAGEMENTS].aggregate(
            [
                {"$match": {"campaign_id": {"$in": ids}}},
                {"$group": {"_id": {"c": "$campaign_id", "k": "$kind", "e": "$email"}}},
                {"$group": {"_id": {"c": "$_id.c", "k": "$_id.k"}, "n": {"$sum": 1}}},
            ]
        )
        async for row in people:
            counts[row["_id"]["c"]][row["_id"]["k"]] = int(row["n"])
        money: dict[str, tuple[int, Decimal, int]] = {}
        async for doc in self.db[CONVERSIONS].find({"campaign_id": {"$in": ids}}):
            conversion = conversion_of(doc)
            n, net, returns = money.get(conversion.campaign_id, (0, Decimal("0"), 0))
            money[conversion.campaign_id] = (
                n + (not conversion.cancelled),
                net + conversion.net,
                returns + conversion.returned,
            )
        return {
            i: CampaignResults(
                delivered=c.get("sent", 0),
                skipped=c.get("skipped", 0),
                opened=c.get("open", 0),
                clicked=c.get("click", 0),
                unsubscribed=c.get("unsubscribe", 0),
                conversions=money.get(i, (0, Decimal("0"), 0))[0],
                revenue_net=money.get(i, (0, Decimal("0"), 0))[1],
                returns=money.get(i, (0, Decimal("0"), 0))[2],
            )
            for i, c in counts.items()
        }

    async def campaign(self, campaign_id: str) -> tuple[Campaign, CampaignResults] | None:
        doc = await self.db[CAMPAIGNS].find_one({"_id": campaign_id})
        if doc is None:
            return None
        return campaign_of(doc), (await self._results([campaign_id]))[campaign_id]

    async def campaign_page(
        self, *, page: int, page_size: int
    ) -> tuple[list[tuple[Campaign, CampaignResults]], int]:
        docs, total = await find_page(
            self.db[CAMPAIGNS], {}, [("created_at", -1), ("_id", 1)], page=page, page_size=page_size
        )
        results = await self._results([d["_id"] for d in docs])
        return [(campaign_of(d), results[d["_id"]]) for d in docs], total

    async def sent_campaigns(self, limit: int) -> list[tuple[Campaign, CampaignResults, str]]:
        """The newest sent campaigns with results and their segment's name."""
        docs = (
            await self.db[CAMPAIGNS]
            .find({"status": "sent"})
            .sort([("sent_at", -1), ("_id", 1)])
            .limit(limit)
            .to_list(None)
        )
        results = await self._results([d["_id"] for d in docs])
        ids = list({d["segment_id"] for d in docs})
        names = {
            s["_id"]: s["name"]
            async for s in self.db[SEGMENTS].find({"_id": {"$in": ids}}, {"name": 1})
        }
        return [
            (campaign_of(d), results[d["_id"]], names.get(d["segment_id"], d["segment_id"]))
            for d in docs
        ]

    async def engagement_times(self, since: datetime) -> list[datetime]:
        """When people opened or clicked since ``since``."""
        rows = self.db[ENGAGEMENTS].find(
            {"kind": {"$in": ["open", "click"]}, "at": {"$gte": since}}, {"at": 1}
        )
        return [r["at"] async for r in rows]
