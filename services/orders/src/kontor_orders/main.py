"""Composition root of the orders service: the one place where its parts are wired."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from fastapi import FastAPI
from kontor_servicekit.clock import Clock, utc_now
from kontor_servicekit.context import attach_context
from kontor_servicekit.idempotency import Answers
from kontor_servicekit.links import LinkSigner
from kontor_servicekit.mail import SmtpSender, smtp_config
from kontor_servicekit.numbers import NumberBlocks
from kontor_servicekit.ratelimit import RateLimiter
from kontor_servicekit.runner import run_service
from kontor_servicekit.service import Kit, ServiceDefinition, create_service_app
from kontor_servicekit.sweeper import Sweeper
from kontor_servicekit.uow import MongoTransactor

from kontor_orders.api.carts import router as carts_router
from kontor_orders.api.complaints import router as complaints_router
from kontor_orders.api.order_life import router as order_life_router
from kontor_orders.api.orders import router as orders_router
from kontor_orders.api.privacy import router as privacy_router
from kontor_orders.api.privacy_public import router as privacy_public_router
from kontor_orders.api.returns import router as returns_router
from kontor_orders.api.vat_ids import router as vat_ids_router
from kontor_orders.api.views import router as views_router
from kontor_orders.api.withdrawal_form import router as withdrawal_page_router
from kontor_orders.application.carts import abandon_quiet_carts
from kontor_orders.application.prepayments import cancel_unpaid_prepayments
from kontor_orders.application.privacy import (
    PrivacyDesk,
    settle_privacy_requests,
    sweep_export_parts,
)
from kontor_orders.application.privacy_links import PublicRequests
from kontor_orders.application.quote_orders import LateNumbers
from kontor_orders.application.unit_of_work import OrderNumbers
from kontor_orders.consumers.catalog import catalog_projection, shipping_projection
from kontor_orders.consumers.marketing import coupon_projection
from kontor_orders.consumers.order_life import payments, reservations
from kontor_orders.consumers.privacy import privacy_answers, privacy_participant
from kontor_orders.consumers.quotes import quote_orders
from kontor_orders.consumers.support import support_tickets
from kontor_orders.context import OrdersContext
from kontor_orders.settings import OrdersSettings
from kontor_orders.store.indexes import ensure_indexes
from kontor_orders.store.migrations import MIGRATIONS
from kontor_orders.store.photos import ComplaintPhotos, delete_orphaned_photos
from kontor_orders.store.queries import CartQueries, ComplaintQueries, OrderQueries, ReturnQueries
from kontor_orders.store.unit_of_work import MongoOrdersUnitOfWork

#: an uploaded photo that no complaint refers to after this long is deleted (ADR 0076)
PHOTO_ORPHAN_AFTER = timedelta(days=1)


def definition(
    settings: OrdersSettings, quote_numbers: OrderNumbers | None = None
) -> ServiceDefinition:
    """``quote_numbers``: where the orders of accepted quotes take their numbers (the
    process's ``NumberBlocks``, handed over by :func:`create_app`)."""
    return ServiceDefinition(
        settings=settings,
        title="Kontor orders",
        description="Orders from placement to delivery, returns and complaints.",
        routers=[
            views_router,  # before /orders/{order_id}
            orders_router,
            order_life_router,
            carts_router,
            withdrawal_page_router,
            returns_router,
            complaints_router,
            vat_ids_router,
            privacy_router,
            privacy_public_router,
        ],
        subscriptions=[
            catalog_projection(),
            shipping_projection(),
            coupon_projection(),
            reservations(),
            payments(),
            privacy_participant(),
            privacy_answers(),
            quote_orders(quote_numbers or LateNumbers()),
            support_tickets(),
        ],
        indexes=partial(
            ensure_indexes,
            cart_keep_days=settings.cart_keep_days,
            order_keep_years=settings.order_keep_years,
            complaint_keep_years=settings.complaint_keep_years,
        ),
        migrations=MIGRATIONS,
        ensure_topics=settings.kafka_ensure_topics,
        sends_mail=True,  # the privacy request links: the relay in a cluster (ADR 0046)
    )


def create_app(settings: OrdersSettings | None = None, clock: Clock = utc_now) -> FastAPI:
    """The orders app; ``clock`` is "now" of every use case (tests replace
    ``OrdersContext.clock`` to move time)."""
    settings = settings or OrdersSettings()
    quote_numbers = LateNumbers()
    service = definition(settings, quote_numbers)
    app = create_service_app(service)
    store = app.state.kit.store
    numbers = NumberBlocks(store)
    quote_numbers.numbers = numbers
    transactor = MongoTransactor(store, MongoOrdersUnitOfWork)
    context = OrdersContext(
        transactor=transactor,
        numbers=numbers,
        clock=clock,
        orders=OrderQueries(store.db),
        carts=CartQueries(store.db),
        returns=ReturnQueries(store.db),
        complaints=ComplaintQueries(store.db),
        photos=ComplaintPhotos(store.db),
        withdrawal_limiter=RateLimiter(settings.withdrawal_rate_limit),
        answers=Answers(store),
        price_lock=timedelta(seconds=settings.checkout_price_lock_s),
        oss_opt_in=settings.oss_opt_in,
        privacy=PrivacyDesk(
            transactor=transactor,
            kit=app.state.kit.privacy,  # the kit's: its cache forgets a destroyed key
            expected=tuple(settings.privacy_expected_services),
            keep_for=timedelta(days=settings.privacy_keep_days),
            answer_within=timedelta(seconds=settings.privacy_answer_within_s),
        ),
    )
    master = app.state.kit.privacy.master
    if master is not None:  # the link key is derived from the privacy master key
        context.public_privacy = PublicRequests(
            signer=LinkSigner(master.derive(b"kontor privacy request links v1")),
            sender=SmtpSender(smtp_config(settings)),
            base_url=settings.public_base_url,
            valid_for=timedelta(hours=settings.privacy_link_valid_h),
        )
        context.privacy_limiter = RateLimiter(settings.privacy_public_rate_limit)
    attach_context(app, context)
    # the clock is asked each round (tests move time)
    quiet = timedelta(seconds=settings.cart_abandon_after_s)
    sweepers = [
        Sweeper(
            "cart-abandonment",
            lambda: abandon_quiet_carts(transactor, quiet=quiet, clock=context.clock),
            interval_s=settings.cart_sweep_interval_s,
        ),
        Sweeper(
            "unpaid-prepayments",
            lambda: cancel_unpaid_prepayments(
                transactor, days=settings.prepayment_days, clock=context.clock
            ),
            interval_s=settings.prepayment_sweep_interval_s,
        ),
        Sweeper(
            "complaint-photos",
            lambda: delete_orphaned_photos(
                store.db, uploaded_before=context.clock() - PHOTO_ORPHAN_AFTER
            ),
            interval_s=settings.photo_sweep_interval_s,
        ),
        Sweeper(
            "privacy-requests",
            lambda: settle_privacy_requests(context.privacy, clock=context.clock),
            interval_s=settings.privacy_sweep_interval_s,
        ),
        Sweeper(
            "privacy-export-parts",  # the blobs of parts too large for an event (ADR 0142)
            lambda: sweep_export_parts(context.privacy, clock=context.clock),
            interval_s=settings.privacy_sweep_interval_s,
        ),
    ]

    async def start_sweeper(kit: Kit) -> None:
        for sweeper in sweepers:
            sweeper.start()

    async def stop_sweeper(kit: Kit) -> None:
        for sweeper in sweepers:
            await sweeper.stop()

    async def hand_back_numbers(kit: Kit) -> None:
        # HTTP has finished its requests when the lifespan stops: no number is taken
        # after this (one that were would come from a fresh block)
        await numbers.release()

    service.on_started.append(start_sweeper)
    service.on_stopping.append(stop_sweeper)
    service.on_stopping.append(hand_back_numbers)
    return app


def run() -> None:
    run_service(create_app, OrdersSettings)
