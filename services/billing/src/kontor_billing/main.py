"""Composition root of the billing service: the one place where its parts are wired."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from kontor_servicekit.clock import Clock, utc_now
from kontor_servicekit.context import attach_context
from kontor_servicekit.runner import run_service
from kontor_servicekit.service import Kit, ServiceDefinition, create_service_app
from kontor_servicekit.uow import MongoTransactor

from kontor_billing.api.audit import router as audit_router
from kontor_billing.api.buyer_language import router as buyer_language_router
from kontor_billing.api.document_queue import router as document_queue_router
from kontor_billing.api.documents import router as documents_router
from kontor_billing.api.invoices import router as invoices_router
from kontor_billing.api.reissue import router as reissue_router
from kontor_billing.api.seller import router as seller_router
from kontor_billing.application.document_check import RulesCheck
from kontor_billing.application.documents import InvoiceDocuments
from kontor_billing.application.invoicing import BillingPolicy
from kontor_billing.consumers.orders import invoicing
from kontor_billing.context import BillingContext
from kontor_billing.documents.from_invoice import EXAMPLE_SELLER
from kontor_billing.domain.seller import seller_missing_reason
from kontor_billing.settings import BillingSettings
from kontor_billing.store.buyer_languages import BuyerLanguageQueries
from kontor_billing.store.document_queue import WaitingQueries
from kontor_billing.store.documents import MongoDocumentFiles
from kontor_billing.store.indexes import ensure_indexes
from kontor_billing.store.migrations import MIGRATIONS
from kontor_billing.store.queries import InvoiceQueries, SellerQueries
from kontor_billing.store.unit_of_work import MongoBillingUnitOfWork

#: The e-invoice rules every document passes before its number (ADR 0025): one per
#: process, loaded in the background from the start (a check before waits for it).
RULES = RulesCheck()


def policy_of(settings: BillingSettings) -> BillingPolicy:
    return BillingPolicy(
        invoice_on=settings.invoice_on,
        example_seller=settings.example_seller,
        small_business=settings.small_business,
        invoice_prefix=settings.invoice_prefix,
        cancellation_prefix=settings.cancellation_prefix,
        correction_prefix=settings.correction_prefix,
        check_documents=RULES,
    )


def seller_readiness(policy: BillingPolicy) -> Callable[[Kit], Awaitable[str]]:
    async def check(kit: Kit) -> str:
        sellers = SellerQueries(kit.store.db)
        seller = await sellers.current()
        if seller is None and policy.example_seller:
            return "ok"
        reason = seller_missing_reason(seller)
        if reason is None:
            return "ok"
        waiting = await sellers.waiting_invoices()
        return f"no documents issued: {reason}; {waiting} invoice(s) waiting"

    return check


def definition(settings: BillingSettings, clock: Clock = utc_now) -> ServiceDefinition:
    policy = policy_of(settings)
    return ServiceDefinition(
        settings=settings,
        title="Kontor billing",
        description="Invoices, cancellations and corrections by German rules.",
        routers=[
            invoices_router,
            documents_router,
            seller_router,
            audit_router,
            document_queue_router,
            reissue_router,
            buyer_language_router,
        ],
        subscriptions=[invoicing(clock, policy)],
        indexes=ensure_indexes,
        migrations=MIGRATIONS,
        ensure_topics=settings.kafka_ensure_topics,
        readiness={"seller": seller_readiness(policy)},
        on_started=[RULES.loading_hook()],
    )


def create_app(settings: BillingSettings | None = None, clock: Clock = utc_now) -> FastAPI:
    settings = settings or BillingSettings()
    app = create_service_app(definition(settings, clock))
    kit = app.state.kit
    documents = InvoiceDocuments(MongoDocumentFiles(kit.store.db), seller=lambda: EXAMPLE_SELLER)
    attach_context(
        app,
        BillingContext(
            invoices=InvoiceQueries(kit.store.db),
            clock=clock,
            documents=documents,
            transactor=MongoTransactor(kit.store, MongoBillingUnitOfWork),
            sellers=SellerQueries(kit.store.db),
            policy=policy_of(settings),
            waiting=WaitingQueries(kit.store.db),
            languages=BuyerLanguageQueries(kit.store.db),
        ),
    )
    return app


def run() -> None:
    run_service(create_app, BillingSettings)
