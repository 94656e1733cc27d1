"""The order service's read model of marketing's coupons, and its coupon redemptions.

``coupons`` is fed by CouponDefined / CouponWithdrawn on ``marketing.coupon.v1`` (each
CouponDefined is the coupon's whole state; the newest event wins, as for products).
``coupon_redemptions`` holds one document per single-use code, keyed by the code and
written in the order's own transaction: two concurrent orders with the same code
both insert the same ``_id``, the database lets one commit, the other's transaction
conflicts and runs again, finds the redemption and is refused (ADR 0018). A code with
limits has counters there, ``<code>#all`` and ``<code>#<the customer's subject id>``,
incremented the same way: two concurrent orders change the same counter, one
transaction runs again and reads the count the other left (ADR 0057).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from kontor_servicekit.domain_errors import Conflict
from kontor_servicekit.projections import upsert_if_newer, upsert_many_if_newer
from kontor_servicekit.store import Transaction
from pymongo.errors import DuplicateKeyError

from kontor_orders.domain.coupons import Coupon, Uses

COUPONS = "coupons"
REDEMPTIONS = "coupon_redemptions"


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def coupon_of(doc: Mapping[str, Any]) -> Coupon:
    return Coupon(
        code=doc["_id"],
        kind=doc.get("kind", "value"),
        percent=_dec(doc.get("percent")),
        value=_dec(doc.get("value")),
        currency=doc.get("currency", "EUR"),
        minimum_order_value=_dec(doc.get("minimum_order_value")),
        valid_from=doc.get("valid_from"),
        valid_until=doc.get("valid_until"),
        single_use=bool(doc.get("single_use", False)),
        withdrawn=bool(doc.get("withdrawn", False)),
        uses_per_customer=doc.get("uses_per_customer"),
        max_redemptions=doc.get("max_redemptions"),
        product_skus=frozenset(doc.get("product_skus") or ()),
        category_ids=frozenset(doc.get("category_ids") or ()),
    )


def counter_ids(code: str, customer: str) -> tuple[str, str]:
    """The counters of ``code``: its uses in all and by ``customer`` (a subject id)."""
    return f"{code}#all", f"{code}#{customer}"


class MongoCoupons:
    """``Coupons`` inside one Mongo transaction."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def known(self, codes: list[str]) -> dict[str, Coupon]:
        docs = (
            await self.tx.db[COUPONS]
            .find({"_id": {"$in": codes}, "kind": {"$exists": True}}, session=self.tx.session)
            .to_list(None)
        )
        return {d["_id"]: coupon_of(d) for d in docs}

    async def used(self, codes: list[str]) -> set[str]:
        docs = (
            await self.tx.db[REDEMPTIONS]
            .find({"_id": {"$in": codes}}, {"_id": 1}, session=self.tx.session)
            .to_list(None)
        )
        return {d["_id"] for d in docs}

    async def redeem(self, code: str, order_id: str, at: datetime) -> None:
        try:
            await self.tx.db[REDEMPTIONS].insert_one(
                {"_id": code, "order_id": order_id, "redeemed_at": at}, session=self.tx.session
            )
        except DuplicateKeyError as exc:
            raise Conflict(f"coupon {code!r} was used already") from exc

    async def uses(self, codes: list[str], customer: str) -> dict[str, Uses]:
        ids = {code: counter_ids(code, customer) for code in codes}
        wanted = [i for pair in ids.values() for i in pair]
        docs = (
            await self.tx.db[REDEMPTIONS]
            .find({"_id": {"$in": wanted}}, {"count": 1}, session=self.tx.session)
            .to_list(None)
        )
        counts = {d["_id"]: int(d.get("count", 0)) for d in docs}
        return {
            code: Uses(counts.get(total, 0), counts.get(mine, 0))
            for code, (total, mine) in ids.items()
        }

    async def count_use(self, code: str, customer: str, order_id: str, at: datetime) -> None:
        for counter in counter_ids(code, customer):
            await self.tx.db[REDEMPTIONS].update_one(
                {"_id": counter},
                {"$inc": {"count": 1}, "$set": {"last_order_id": order_id, "last_at": at}},
                upsert=True,
                session=self.tx.session,
            )

    async def apply(self, code: str, facts: Mapping[str, Any], occurred_at: datetime) -> None:
        await upsert_if_newer(
            self.tx.db[COUPONS], code, facts, occurred_at=occurred_at, session=self.tx.session
        )

    async def apply_all(
        self, codes: list[str], facts: Mapping[str, Any], occurred_at: datetime
    ) -> None:
        await upsert_many_if_newer(
            self.tx.db[COUPONS], codes, facts, occurred_at=occurred_at, session=self.tx.session
        )
