"""Composition root of the analytics service.

No features yet: it serves health, metrics, OpenAPI and its AsyncAPI document,
and consumes nothing until its issue lands.
"""

from __future__ import annotations

from fastapi import FastAPI
from kontor_servicekit.runner import run_service
from kontor_servicekit.service import ServiceDefinition, create_service_app

from kontor_analytics.settings import AnalyticsSettings


def definition(settings: AnalyticsSettings) -> ServiceDefinition:
    return ServiceDefinition(
        settings=settings,
        title="Kontor analytics",
        description="Key figures (conversion, cart abandonment, returns) and their thresholds.",
        ensure_topics=settings.kafka_ensure_topics,
    )


def create_app(settings: AnalyticsSettings | None = None) -> FastAPI:
    return create_service_app(definition(settings or AnalyticsSettings()))


def run() -> None:
    run_service(create_app, AnalyticsSettings)
