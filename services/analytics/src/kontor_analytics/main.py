"""Composition root of the analytics service: the one place where its parts are wired."""

from __future__ import annotations

from fastapi import FastAPI
from kontor_servicekit.clock import Clock, utc_now
from kontor_servicekit.context import attach_context
from kontor_servicekit.runner import run_service
from kontor_servicekit.service import ServiceDefinition, create_service_app
from kontor_servicekit.uow import MongoTransactor

from kontor_analytics.context import AnalyticsContext
from kontor_analytics.settings import AnalyticsSettings
from kontor_analytics.store.indexes import ensure_indexes
from kontor_analytics.store.queries import AnalyticsQueries
from kontor_analytics.store.unit_of_work import MongoAnalyticsUnitOfWork


def definition(settings: AnalyticsSettings, clock: Clock = utc_now) -> ServiceDefinition:
    return ServiceDefinition(
        settings=settings,
        title="Kontor analytics",
        description="Key figures (conversion, cart abandonment, returns) and their thresholds.",
        routers=[],
        subscriptions=[],
        indexes=ensure_indexes,
        ensure_topics=settings.kafka_ensure_topics,
    )


def create_app(settings: AnalyticsSettings | None = None, clock: Clock = utc_now) -> FastAPI:
    app = create_service_app(definition(settings or AnalyticsSettings(), clock))
    store = app.state.kit.store
    context = AnalyticsContext(
        transactor=MongoTransactor(store, MongoAnalyticsUnitOfWork),
        queries=AnalyticsQueries(store.db),
        clock=clock,
    )
    attach_context(app, context)
    return app


def run() -> None:
    run_service(create_app, AnalyticsSettings)
