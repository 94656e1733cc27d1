"""Analytics's unit of work over one MongoDB transaction."""

from __future__ import annotations

from kontor_servicekit.store import Transaction
from kontor_servicekit.uow import MongoUnitOfWork

from kontor_analytics.application.unit_of_work import (
    AlertRepository,
    DashboardSessionRepository,
    FactRepository,
    PrivacyRepository,
    RawEventRepository,
    SessionRepository,
)
from kontor_analytics.store.alerts import MongoAlertRepository
from kontor_analytics.store.collected import MongoRawEventRepository, MongoSessionRepository
from kontor_analytics.store.dashboard import MongoDashboardSessionRepository
from kontor_analytics.store.facts import MongoFactRepository
from kontor_analytics.store.privacy import MongoPrivacyRepository


class MongoAnalyticsUnitOfWork(MongoUnitOfWork):
    def __init__(self, tx: Transaction) -> None:
        super().__init__(tx)
        self.raw_events: RawEventRepository = MongoRawEventRepository(tx)
        self.sessions: SessionRepository = MongoSessionRepository(tx)
        self.facts: FactRepository = MongoFactRepository(tx)
        self.alerts: AlertRepository = MongoAlertRepository(tx)
        self.privacy: PrivacyRepository = MongoPrivacyRepository(tx)
        self.dashboard_sessions: DashboardSessionRepository = MongoDashboardSessionRepository(tx)
