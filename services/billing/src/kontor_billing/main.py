"""Composition root of the billing service: the one place where its parts are wired."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from fastapi import FastAPI
from kontor_servicekit.blobs import BlobStore
from kontor_servicekit.clock import Clock, utc_now
from kontor_servicekit.context import attach_context, context_of
from kontor_servicekit.idempotency import Answers
from kontor_servicekit.runner import run_service
from kontor_servicekit.service import Kit, ServiceDefinition, create_service_app
from kontor_servicekit.sweeper import Sweeper
from kontor_servicekit.uow import MongoTransactor

from kontor_billing.api.audit import router as audit_router
from kontor_billing.api.bank_statements import router as bank_router
from kontor_billing.api.buyer_language import router as buyer_language_router
from kontor_billing.api.datev import router as datev_router
from kontor_billing.api.document_queue import router as document_queue_router
from kontor_billing.api.documents import router as documents_router
from kontor_billing.api.dunning import router as dunning_router
from kontor_billing.api.incoming import router as incoming_router
from kontor_billing.api.invoices import router as invoices_router
from kontor_billing.api.oss import router as oss_router
from kontor_billing.api.payments import router as payments_router
from kontor_billing.api.payouts import router as payouts_router
from kontor_billing.api.quotes import router as quotes_router
from kontor_billing.api.reissue import router as reissue_router
from kontor_billing.api.retention import router as retention_router
from kontor_billing.api.seller import router as seller_router
from kontor_billing.api.stripe_webhooks import router as stripe_router
from kontor_billing.application.document_check import RulesCheck
from kontor_billing.application.documents import InvoiceDocuments
from kontor_billing.application.dunning import DunningDocuments, run_dunning
from kontor_billing.application.incoming import IncomingPolicy
from kontor_billing.application.invoicing import BillingPolicy
from kontor_billing.application.quote_documents import QuoteDocuments
from kontor_billing.application.quotes import QuotePolicy, expire_quotes
from kontor_billing.application.stripe_webhooks import StripeWebhookSettings
from kontor_billing.consumers.catalog import quote_catalog
from kontor_billing.consumers.orders import invoicing
from kontor_billing.consumers.payouts import payouts
from kontor_billing.context import BillingContext, IncomingContext
from kontor_billing.documents.from_invoice import EXAMPLE_SELLER
from kontor_billing.domain.dunning import BaseRateTable, DunningLevel, DunningPolicy
from kontor_billing.domain.seller import seller_missing_reason
from kontor_billing.payouts_wiring import datev_policy, provider_refund_sweeper
from kontor_billing.privacy import privacy_participant
from kontor_billing.settings import BillingSettings
from kontor_billing.store.bank_queries import BankQueries
from kontor_billing.store.bank_statements import MongoStatementFiles
from kontor_billing.store.buyer_languages import (
    BUYER_LANGUAGES,
    BUYER_PAYMENT_TERMS,
    BuyerChoiceQueries,
)
from kontor_billing.store.datev import OpenItemQueries
from kontor_billing.store.document_queue import WaitingQueries
from kontor_billing.store.documents import MongoDocumentFiles
from kontor_billing.store.erased_buyers import ErasedBuyers
from kontor_billing.store.incoming import INCOMING_FILES
from kontor_billing.store.incoming_queries import IncomingQueries
from kontor_billing.store.indexes import ensure_indexes
from kontor_billing.store.migrations import MIGRATIONS
from kontor_billing.store.oss import OssQueries
from kontor_billing.store.payouts import PayoutQueries
from kontor_billing.store.queries import InvoiceQueries, SellerQueries
from kontor_billing.store.quotes import QuoteQueries
from kontor_billing.store.receivables_queries import DunningQueries, ReceivableQueries
from kontor_billing.store.retention import RetentionQueries
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


def dunning_policy_of(settings: BillingSettings) -> DunningPolicy:
    return DunningPolicy(
        levels=(
            DunningLevel(1, settings.dunning_reminder_days, settings.dunning_reminder_fee),
            DunningLevel(2, settings.dunning_first_notice_days, settings.dunning_first_notice_fee),
            DunningLevel(
                3, settings.dunning_second_notice_days, settings.dunning_second_notice_fee
            ),
        ),
        pay_within_days=settings.dunning_pay_within_days,
        prefix=settings.dunning_prefix,
        base_rates=BaseRateTable.with_extra(settings.dunning_base_rates),
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
            oss_router,
            retention_router,
            incoming_router,
            payments_router,
            stripe_router,
            dunning_router,
            bank_router,
            payouts_router,
            datev_router,
            quotes_router,
            document_queue_router,
            reissue_router,
            buyer_language_router,
        ],
        subscriptions=[
            invoicing(clock, policy),
            privacy_participant(clock),
            payouts(clock),
            quote_catalog(),
        ],
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
            oss=OssQueries(kit.store.db, opt_in=settings.oss_opt_in),
            retention=RetentionQueries(kit.store.db, settings.retention_periods),
            incoming=incoming_of(settings, BlobStore(kit.store.db, INCOMING_FILES)),
            receivables=ReceivableQueries(kit.store.db),
            answers=Answers(kit.store),
            dunning=DunningQueries(kit.store.db),
            dunning_documents=DunningDocuments(DunningQueries(kit.store.db)),
            stripe=StripeWebhookSettings(
                secret=settings.stripe_webhook_secret.get_secret_value()
                if settings.stripe_webhook_secret
                else None,
                tolerance_s=settings.stripe_webhook_tolerance_s,
            ),
            payout_queries=PayoutQueries(kit.store.db),
            payout_transactor=MongoTransactor(kit.store, MongoBillingUnitOfWork),
            datev=datev_policy(settings),
            open_items=OpenItemQueries(kit.store.db),
            bank=BankQueries(kit.store.db),
            bank_files=MongoStatementFiles(kit.store.db),
            payouts=PayoutQueries(kit.store.db),  # the bank's debits find payout items
            quotes=QuoteQueries(kit.store.db),
            quote_policy=QuotePolicy(
                prefix=settings.quote_prefix, validity=timedelta(days=settings.quote_validity_days)
            ),
            quote_documents=QuoteDocuments(
                MongoTransactor(kit.store, MongoBillingUnitOfWork),
                example_seller=settings.example_seller,
            ),
            waiting=WaitingQueries(kit.store.db),
            languages=BuyerChoiceQueries(kit.store.db, BUYER_LANGUAGES, "language", str),
            terms=BuyerChoiceQueries(kit.store.db, BUYER_PAYMENT_TERMS, "days", int),
            erased=ErasedBuyers(kit.store.db, kit.privacy.pseudonyms),
        ),
    )
    if settings.dunning_enabled:
        _start_dunning(app, settings)
    provider_refund_sweeper(kit, settings, clock)
    start_quote_expiry(app, kit, settings)
    return app


def incoming_of(settings: BillingSettings, files: BlobStore) -> IncomingContext:
    default = settings.incoming_expense_account or (
        "3400" if settings.incoming_chart == "SKR03" else "5400"
    )
    return IncomingContext(
        queries=IncomingQueries(files.db, files),
        files=files,
        policy=IncomingPolicy(default, dict(settings.incoming_supplier_accounts)),
    )


def _start_dunning(app: FastAPI, settings: BillingSettings) -> None:
    """The dunning sweep on the context's clock (asked each round: tests move time)."""
    kit = app.state.kit
    context = context_of(app, BillingContext)
    policy = dunning_policy_of(settings)
    Sweeper(
        "dunning",
        lambda: run_dunning(context.transactor, policy=policy, clock=context.clock),
        interval_s=settings.dunning_sweep_interval_s,
    ).runs_with(kit.definition)


def start_quote_expiry(app: FastAPI, kit: Kit, settings: BillingSettings) -> None:
    """Open quotes past valid_until expire by themselves (the context's clock, each round)."""
    context = context_of(app, BillingContext)
    Sweeper(
        "quote-expiry",
        lambda: expire_quotes(context.transactor, clock=context.clock),
        interval_s=settings.quote_sweep_interval_s,
    ).runs_with(kit.definition)


def run() -> None:
    run_service(create_app, BillingSettings)
