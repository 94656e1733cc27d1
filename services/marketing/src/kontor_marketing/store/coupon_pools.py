"""Coupon pools (``coupon_pools``, ``_id`` the pool id) and their codes
(``coupon_pool_codes``, ``_id`` the code): documents <-> :class:`CouponPool`,
:class:`PoolCode` (ADR 0118).

Handing out a code is a write to its document in the transaction that queues the mail:
two dispatches taking the same free code change one document, the database lets one
commit and the other's transaction runs again and takes the next free one.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from kontor_servicekit.domain_errors import Conflict
from kontor_servicekit.store import Transaction
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from kontor_marketing.domain.coupon_pool import CouponPool, PoolCode, PoolCounts
from kontor_marketing.store.coupons import from_document as coupon_of
from kontor_marketing.store.coupons import to_document as coupon_document

POOLS = "coupon_pools"
POOL_CODES = "coupon_pool_codes"


def pool_document(pool: CouponPool) -> dict[str, Any]:
    rules = coupon_document(pool.rules)
    rules["code"] = rules.pop("_id")
    return {
        "_id": pool.id,
        "prefix": pool.prefix,
        "count": pool.count,
        "rules": rules,
        "created_at": pool.created_at,
        "batches": pool.batches,
    }


def pool_of(doc: dict[str, Any]) -> CouponPool:
    rules = dict(doc["rules"])
    rules["_id"] = rules.pop("code")
    return CouponPool(
        id=doc["_id"],
        prefix=doc["prefix"],
        count=int(doc["count"]),
        rules=coupon_of(rules),
        created_at=doc["created_at"],
        batches=int(doc.get("batches", 0)),
    )


def code_document(code: PoolCode) -> dict[str, Any]:
    doc = asdict(code)
    doc["_id"] = doc.pop("code")
    return doc


def code_of(doc: dict[str, Any]) -> PoolCode:
    fields = {k: v for k, v in doc.items() if k != "_id"}
    return PoolCode(code=doc["_id"], **fields)


async def pool_counts(
    codes: AsyncCollection[dict[str, Any]],
    pool_id: str,
    session: AsyncClientSession | None = None,
) -> PoolCounts:
    """How many of the pool's codes were generated, handed out and used."""
    mine = {"pool_id": pool_id}
    return PoolCounts(
        generated=await codes.count_documents(mine, session=session),
        assigned=await codes.count_documents(
            {**mine, "assigned_at": {"$ne": None}}, session=session
        ),
        redeemed=await codes.count_documents({**mine, "order_id": {"$ne": None}}, session=session),
    )


class MongoCouponPools:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.collection = tx.db[POOLS]

    async def get(self, pool_id: str) -> CouponPool | None:
        doc = await self.collection.find_one({"_id": pool_id}, session=self.tx.session)
        return None if doc is None else pool_of(doc)

    async def add(self, pool: CouponPool) -> None:
        await self.collection.insert_one(pool_document(pool), session=self.tx.session)

    async def save(self, pool: CouponPool) -> None:
        await self.collection.replace_one(
            {"_id": pool.id}, pool_document(pool), session=self.tx.session
        )


class MongoPoolCodes:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.collection = tx.db[POOL_CODES]

    async def add_all(self, codes: list[PoolCode]) -> None:
        try:
            await self.collection.insert_many(
                [code_document(c) for c in codes], session=self.tx.session
            )
        except BulkWriteError as exc:
            raise Conflict("a generated code exists already; create the pool again") from exc

    async def get(self, code: str) -> PoolCode | None:
        doc = await self.collection.find_one({"_id": code}, session=self.tx.session)
        return None if doc is None else code_of(doc)

    async def held(self, pool_id: str, campaign_id: str, email: str) -> PoolCode | None:
        doc = await self.collection.find_one(
            {"pool_id": pool_id, "campaign_id": campaign_id, "email": email},
            session=self.tx.session,
        )
        return None if doc is None else code_of(doc)

    async def next_free(self, pool_id: str) -> PoolCode | None:
        doc = await self.collection.find_one(
            {"pool_id": pool_id, "assigned_at": None}, sort=[("_id", 1)], session=self.tx.session
        )
        return None if doc is None else code_of(doc)

    async def save(self, code: PoolCode) -> None:
        await self.collection.replace_one(
            {"_id": code.code}, code_document(code), session=self.tx.session
        )

    async def counts(self, pool_id: str) -> PoolCounts:
        return await pool_counts(self.collection, pool_id, self.tx.session)

    async def of(self, email: str) -> list[PoolCode]:
        docs = self.collection.find({"email": email}, session=self.tx.session)
        return [code_of(d) async for d in docs]

    async def forget(self, email: str) -> int:
        done = await self.collection.update_many(
            {"email": email}, {"$set": {"email": None}}, session=self.tx.session
        )
        return done.modified_count
