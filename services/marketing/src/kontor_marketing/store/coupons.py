"""Coupons (``coupons``, ``_id`` the code): documents <-> :class:`Coupon`."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any

from kontor_servicekit.domain_errors import Conflict
from kontor_servicekit.store import Transaction
from pymongo.errors import DuplicateKeyError

from kontor_marketing.domain.coupon import Coupon

COUPONS = "coupons"
_AMOUNTS = ("percent", "value", "minimum_order_value", "discount_total")


def to_document(coupon: Coupon) -> dict[str, Any]:
    doc = asdict(coupon)
    doc["_id"] = doc.pop("code")
    for name in ("orders", "product_skus", "category_ids"):
        doc[name] = list(doc[name])
    return doc


def from_document(doc: dict[str, Any]) -> Coupon:
    fields = {k: v for k, v in doc.items() if k != "_id"}
    for name in _AMOUNTS:
        if fields.get(name) is not None:
            fields[name] = Decimal(str(fields[name]))
    for name in ("orders", "product_skus", "category_ids"):
        fields[name] = tuple(fields.get(name) or ())
    return Coupon(code=doc["_id"], **fields)


class MongoCouponRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.collection = tx.db[COUPONS]

    async def get(self, code: str) -> Coupon | None:
        doc = await self.collection.find_one({"_id": code}, session=self.tx.session)
        return None if doc is None else from_document(doc)

    async def add(self, coupon: Coupon) -> None:
        try:
            await self.collection.insert_one(to_document(coupon), session=self.tx.session)
        except DuplicateKeyError as exc:
            raise Conflict(f"coupon {coupon.code!r} exists already") from exc

    async def save(self, coupon: Coupon) -> None:
        await self.collection.replace_one(
            {"_id": coupon.code}, to_document(coupon), session=self.tx.session
        )
