"""Back-in-stock requests (``stock_alerts``, ``_id`` ``<sku>|<e-mail>``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from kontor_servicekit.store import Transaction

from kontor_marketing.domain.stock_alerts import StockAlert

STOCK_ALERTS = "stock_alerts"


def _alert(doc: dict[str, Any]) -> StockAlert:
    return StockAlert(**{k: v for k, v in doc.items() if k != "_id"})


class MongoStockAlerts:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.collection = tx.db[STOCK_ALERTS]

    async def save(self, alert: StockAlert) -> None:
        doc = {"_id": alert.id, **asdict(alert)}
        await self.collection.replace_one(
            {"_id": alert.id}, doc, upsert=True, session=self.tx.session
        )

    async def waiting_for(self, sku: str) -> list[StockAlert]:
        docs = await self.collection.find(
            {"sku": sku, "status": "waiting"}, session=self.tx.session
        ).to_list(None)
        return [_alert(d) for d in docs]

    async def of(self, email: str) -> list[StockAlert]:
        docs = await self.collection.find({"email": email}, session=self.tx.session).to_list(None)
        return [_alert(d) for d in docs]

    async def delete_of(self, email: str) -> int:
        done = await self.collection.delete_many({"email": email}, session=self.tx.session)
        return done.deleted_count
