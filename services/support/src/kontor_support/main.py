"""Composition root of the support service.

No features yet: it serves health, metrics, OpenAPI and its AsyncAPI document,
and consumes nothing until its issue lands.
"""

from __future__ import annotations

from fastapi import FastAPI
from kontor_servicekit.runner import run_service
from kontor_servicekit.service import ServiceDefinition, create_service_app

from kontor_support.settings import SupportSettings


def definition(settings: SupportSettings) -> ServiceDefinition:
    return ServiceDefinition(
        settings=settings,
        title="Kontor support",
        description="Customer contact on every channel: tickets and their answers.",
        ensure_topics=settings.kafka_ensure_topics,
    )


def create_app(settings: SupportSettings | None = None) -> FastAPI:
    return create_service_app(definition(settings or SupportSettings()))


def run() -> None:
    run_service(create_app, SupportSettings)
