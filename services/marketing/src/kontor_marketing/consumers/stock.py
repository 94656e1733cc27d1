"""Subscription ``marketing.stock-alerts``: catalog's stock movements -> back-in-stock mails."""

from __future__ import annotations

from typing import Any

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.catalog import StockAdjusted
from kontor_servicekit.clock import Clock, utc_now
from kontor_servicekit.consumer import Subscription

from kontor_marketing.application.stock_alerts import StockNotices, on_stock_adjusted
from kontor_marketing.store.unit_of_work import MongoMarketingUnitOfWork


def stock_alerts(notices: StockNotices, clock: Clock = utc_now) -> Subscription:
    async def adjusted(event: StockAdjusted, uow: Any, env: Envelope) -> None:
        await on_stock_adjusted(event, uow, env, notices=notices, clock=clock)

    return Subscription(
        purpose="stock-alerts",
        description="Pieces available again notify who asked to hear of the article",
        handlers={StockAdjusted: adjusted},
        unit_of_work=MongoMarketingUnitOfWork,
    )
