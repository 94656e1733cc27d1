"""Marketing's read side: what the routes show, answered straight from the database."""

from __future__ import annotations

from typing import Any

from kontor_servicekit.store import find_page
from pymongo.asynchronous.database import AsyncDatabase

from kontor_marketing.domain.consent import Consent
from kontor_marketing.domain.coupon import Coupon
from kontor_marketing.domain.profile import Profile, Segment
from kontor_marketing.store.consents import CONSENTS
from kontor_marketing.store.consents import from_document as consent_of
from kontor_marketing.store.coupons import COUPONS
from kontor_marketing.store.coupons import from_document as coupon_of
from kontor_marketing.store.profiles import PROFILES, SEGMENTS, segment_of
from kontor_marketing.store.profiles import from_document as profile_of


class MarketingQueries:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.db = db

    async def consent(self, email: str) -> Consent | None:
        doc = await self.db[CONSENTS].find_one({"_id": email})
        return None if doc is None else consent_of(doc)

    async def coupon(self, code: str) -> Coupon | None:
        doc = await self.db[COUPONS].find_one({"_id": code})
        return None if doc is None else coupon_of(doc)

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
