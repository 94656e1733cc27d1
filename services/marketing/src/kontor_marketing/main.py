"""Composition root of the marketing service: the one place where its parts are wired."""

from __future__ import annotations

from fastapi import FastAPI
from kontor_servicekit.clock import Clock, utc_now
from kontor_servicekit.context import attach_context
from kontor_servicekit.runner import run_service
from kontor_servicekit.service import ServiceDefinition, create_service_app
from kontor_servicekit.uow import MongoTransactor

from kontor_marketing.context import MarketingContext
from kontor_marketing.settings import MarketingSettings
from kontor_marketing.store.indexes import ensure_indexes
from kontor_marketing.store.queries import MarketingQueries
from kontor_marketing.store.unit_of_work import MongoMarketingUnitOfWork


def definition(settings: MarketingSettings, clock: Clock = utc_now) -> ServiceDefinition:
    return ServiceDefinition(
        settings=settings,
        title="Kontor marketing",
        description="Campaigns, coupons and consent, planned from what worked before.",
        routers=[],
        subscriptions=[],
        indexes=ensure_indexes,
        ensure_topics=settings.kafka_ensure_topics,
    )


def create_app(settings: MarketingSettings | None = None, clock: Clock = utc_now) -> FastAPI:
    app = create_service_app(definition(settings or MarketingSettings(), clock))
    store = app.state.kit.store
    context = MarketingContext(
        transactor=MongoTransactor(store, MongoMarketingUnitOfWork),
        queries=MarketingQueries(store.db),
        clock=clock,
    )
    attach_context(app, context)
    return app


def run() -> None:
    run_service(create_app, MarketingSettings)
