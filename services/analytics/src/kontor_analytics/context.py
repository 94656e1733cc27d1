"""Analytics's container: what its routes are built with (see ``main.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from kontor_servicekit.clock import Clock
from kontor_servicekit.context import context_dependency
from kontor_servicekit.idempotency import Answers
from kontor_servicekit.uow import Transactor

from kontor_analytics.application.collect import Collector
from kontor_analytics.application.unit_of_work import AnalyticsUnitOfWork
from kontor_analytics.store.queries import AnalyticsQueries


@dataclass
class AnalyticsContext:
    transactor: Transactor[AnalyticsUnitOfWork]
    queries: AnalyticsQueries
    clock: Clock
    collector: Collector
    answers: Answers
    session_timeout_min: int = 30
    dashboard_session_hours: int = 8
    dashboard_cookie_secure: bool = True


Context = Annotated[AnalyticsContext, Depends(context_dependency(AnalyticsContext))]
