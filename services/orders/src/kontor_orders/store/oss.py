"""The running total of the year's distance sales to consumers abroad (One-Stop-Shop,
ADR 0026): one document per calendar year (``_id`` the year, ``net`` a Decimal128).

Written in the order's own transaction: two concurrent distance sales both read and
write the year's document, the database lets one commit and the other's transaction
conflicts and runs again with the new total, so the sale that crosses the threshold
is found exactly once. Domestic orders never touch it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kontor_servicekit.fakes import InMemoryTable
from kontor_servicekit.store import Transaction

from kontor_orders.domain.oss import DistanceSales

DISTANCE_SALES = "oss_distance_sales"


def _net(doc: dict[str, Any] | None) -> Decimal:
    return Decimal("0") if doc is None else Decimal(str(doc["net"]))


class MongoDistanceSales:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def of(self, year: int) -> DistanceSales:
        docs = {
            d["_id"]: d
            for d in await self.tx.db[DISTANCE_SALES]
            .find({"_id": {"$in": [str(year - 1), str(year)]}}, session=self.tx.session)
            .to_list(None)
        }
        return DistanceSales(_net(docs.get(str(year - 1))), _net(docs.get(str(year))))

    async def add(self, year: int, net: Decimal) -> None:
        collection = self.tx.db[DISTANCE_SALES]
        doc = await collection.find_one({"_id": str(year)}, session=self.tx.session)
        await collection.update_one(
            {"_id": str(year)},
            {"$set": {"net": _net(doc) + net}, "$inc": {"orders": 1}},
            upsert=True,
            session=self.tx.session,
        )


class InMemoryDistanceSales:
    """The same over a fake table (rows ``{"_id": year, "net": Decimal}``)."""

    def __init__(self, table: InMemoryTable[dict[str, Any]]) -> None:
        self.table = table

    async def of(self, year: int) -> DistanceSales:
        return DistanceSales(_net(self.table.get(str(year - 1))), _net(self.table.get(str(year))))

    async def add(self, year: int, net: Decimal) -> None:
        row = self.table.get(str(year))
        self.table.put({"_id": str(year), "net": _net(row) + net})
