"""Composition root of the analytics service: the one place where its parts are wired."""

from __future__ import annotations

from fastapi import FastAPI
from kontor_servicekit.clock import Clock, utc_now
from kontor_servicekit.context import attach_context
from kontor_servicekit.idempotency import Answers
from kontor_servicekit.privacy.keys import Pseudonyms
from kontor_servicekit.privacy.setup import master_key_of
from kontor_servicekit.runner import run_service
from kontor_servicekit.service import ServiceDefinition, create_service_app
from kontor_servicekit.sweeper import Sweeper
from kontor_servicekit.uow import MongoTransactor

from kontor_analytics.api import alerts, collect, dashboard, kpis
from kontor_analytics.api.cors import CollectCorsMiddleware
from kontor_analytics.application.alerts import sweep_alerts
from kontor_analytics.application.collect import Collector
from kontor_analytics.consumers.figures import fact_subscriptions
from kontor_analytics.consumers.privacy import privacy_participant
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
        routers=[collect.router, kpis.router, dashboard.router, alerts.router],
        subscriptions=[*fact_subscriptions(pseudonyms_of(settings)), privacy_participant(clock)],
        indexes=ensure_indexes(
            settings.raw_events_ttl_days,
            settings.sessions_keep_days,
            settings.session_timeout_min,
        ),
        ensure_topics=settings.kafka_ensure_topics,
    )


def pseudonyms_of(settings: AnalyticsSettings) -> Pseudonyms | None:
    """The kit's keyed pseudonyms (ADR 0034), None without the privacy master key."""
    master = master_key_of(settings)
    return None if master is None else Pseudonyms.of(master)


def create_app(settings: AnalyticsSettings | None = None, clock: Clock = utc_now) -> FastAPI:
    settings = settings or AnalyticsSettings()
    app = create_service_app(definition(settings, clock))
    if settings.collect_allowed_origins:
        app.add_middleware(CollectCorsMiddleware, origins=settings.collect_allowed_origins)
    store = app.state.kit.store
    secret = settings.collect_api_secret
    context = AnalyticsContext(
        transactor=MongoTransactor(store, MongoAnalyticsUnitOfWork),
        queries=AnalyticsQueries(store.db, promised_ship_hours=settings.promised_ship_hours),
        clock=clock,
        collector=Collector(
            measurement_id=settings.collect_measurement_id,
            api_secret=None if secret is None else secret.get_secret_value(),
            consent_required=settings.collect_consent_required,
            max_events_per_minute=settings.collect_max_events_per_minute,
            store_ip=settings.collect_store_ip,
        ),
        answers=Answers(store),
        session_timeout_min=settings.session_timeout_min,
        dashboard_session_hours=settings.dashboard_session_hours,
        dashboard_cookie_secure=settings.dashboard_cookie_secure,
    )
    attach_context(app, context)
    Sweeper(
        "kpi-alerts",
        lambda: sweep_alerts(
            context.transactor,
            context.queries.alert_rules,
            context.queries.observe,
            clock=context.clock,
        ),
        interval_s=settings.alert_interval_s,
    ).runs_with(app.state.kit.definition)
    return app


def run() -> None:
    run_service(create_app, AnalyticsSettings)
