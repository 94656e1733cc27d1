"""Analytics's unit of work over one MongoDB transaction."""

from __future__ import annotations

from kontor_servicekit.store import Transaction
from kontor_servicekit.uow import MongoUnitOfWork

from kontor_analytics.application.unit_of_work import RawEventRepository, SessionRepository
from kontor_analytics.store.collected import MongoRawEventRepository, MongoSessionRepository


class MongoAnalyticsUnitOfWork(MongoUnitOfWork):
    def __init__(self, tx: Transaction) -> None:
        super().__init__(tx)
        self.raw_events: RawEventRepository = MongoRawEventRepository(tx)
        self.sessions: SessionRepository = MongoSessionRepository(tx)
