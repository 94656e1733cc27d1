"""Composition root of the billing service: the one place where its parts are wired."""

from __future__ import annotations

from fastapi import FastAPI
from kontor_servicekit.clock import Clock, utc_now
from kontor_servicekit.context import attach_context
from kontor_servicekit.runner import run_service
from kontor_servicekit.service import ServiceDefinition, create_service_app

from kontor_billing.api.documents import router as documents_router
from kontor_billing.api.invoices import router as invoices_router
from kontor_billing.application.documents import InvoiceDocuments
from kontor_billing.consumers.orders import invoicing
from kontor_billing.context import BillingContext
from kontor_billing.documents.from_invoice import EXAMPLE_SELLER
from kontor_billing.settings import BillingSettings
from kontor_billing.store.documents import MongoDocumentFiles
from kontor_billing.store.indexes import ensure_indexes
from kontor_billing.store.queries import InvoiceQueries


def definition(settings: BillingSettings, clock: Clock = utc_now) -> ServiceDefinition:
    return ServiceDefinition(
        settings=settings,
        title="Kontor billing",
        description="Invoices, credit notes and payments by German rules.",
        routers=[invoices_router, documents_router],
        subscriptions=[invoicing(clock)],
        indexes=ensure_indexes,
        ensure_topics=settings.kafka_ensure_topics,
    )


def create_app(settings: BillingSettings | None = None, clock: Clock = utc_now) -> FastAPI:
    app = create_service_app(definition(settings or BillingSettings(), clock))
    kit = app.state.kit
    documents = InvoiceDocuments(MongoDocumentFiles(kit.store.db), seller=lambda: EXAMPLE_SELLER)
    attach_context(
        app,
        BillingContext(invoices=InvoiceQueries(kit.store.db), clock=clock, documents=documents),
    )
    return app


def run() -> None:
    run_service(create_app, BillingSettings)
