"""Composition root of the marketing service.

No features yet: it serves health, metrics, OpenAPI and its AsyncAPI document,
and consumes nothing until its issue lands.
"""

from __future__ import annotations

from fastapi import FastAPI
from kontor_servicekit.runner import run_service
from kontor_servicekit.service import ServiceDefinition, create_service_app

from kontor_marketing.settings import MarketingSettings


def definition(settings: MarketingSettings) -> ServiceDefinition:
    return ServiceDefinition(
        settings=settings,
        title="Kontor marketing",
        description="Campaigns, coupons and consent, planned from what worked before.",
        ensure_topics=settings.kafka_ensure_topics,
    )


def create_app(settings: MarketingSettings | None = None) -> FastAPI:
    return create_service_app(definition(settings or MarketingSettings()))


def run() -> None:
    run_service(create_app, MarketingSettings)
