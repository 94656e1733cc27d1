"""Composition root of the billing service."""

from __future__ import annotations

from fastapi import FastAPI
from kontor_servicekit.runner import run_service
from kontor_servicekit.service import ServiceDefinition, create_service_app

from kontor_billing.api.invoices import router as invoices_router
from kontor_billing.consumers.orders import INVOICING
from kontor_billing.settings import BillingSettings
from kontor_billing.store.invoices import ensure_indexes


def definition(settings: BillingSettings) -> ServiceDefinition:
    return ServiceDefinition(
        settings=settings,
        title="Kontor billing",
        description="Invoices, credit notes and payments by German rules.",
        routers=[invoices_router],
        subscriptions=[INVOICING],
        indexes=ensure_indexes,
        ensure_topics=settings.kafka_ensure_topics,
    )


def create_app(settings: BillingSettings | None = None) -> FastAPI:
    return create_service_app(definition(settings or BillingSettings()))


def run() -> None:
    run_service(create_app, BillingSettings)
