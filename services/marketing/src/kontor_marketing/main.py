"""Composition root of the marketing service: the one place where its parts are wired."""

from __future__ import annotations

import hashlib
import hmac
from datetime import time, timedelta

from fastapi import FastAPI
from kontor_servicekit.clock import BERLIN, Clock, utc_now
from kontor_servicekit.context import attach_context
from kontor_servicekit.idempotency import Answers
from kontor_servicekit.mail import SmtpReceiver, SmtpSender, smtp_config
from kontor_servicekit.privacy.setup import master_key_of
from kontor_servicekit.ratelimit import RateLimiter
from kontor_servicekit.runner import run_service
from kontor_servicekit.service import ServiceDefinition, create_service_app
from kontor_servicekit.sweeper import Sweeper
from kontor_servicekit.uow import MongoTransactor

from kontor_marketing.api.campaigns import router as campaigns_router
from kontor_marketing.api.coupon_pools import router as coupon_pools_router
from kontor_marketing.api.coupons import router as coupons_router
from kontor_marketing.api.newsletter import router as newsletter_router
from kontor_marketing.api.planning import router as planning_router
from kontor_marketing.api.profiles import router as profiles_router
from kontor_marketing.api.stock_alerts import router as stock_alerts_router
from kontor_marketing.api.suppressions import router as suppressions_router
from kontor_marketing.application.campaigns import CampaignLinks, SendRules, dispatch_due
from kontor_marketing.application.consent import ConsentLinks
from kontor_marketing.application.feedback import feedback_receiver
from kontor_marketing.application.flows import Flow, entry_mails_due, win_back_due
from kontor_marketing.application.mail import MailSender, send_due_mails
from kontor_marketing.application.profiles import refresh_all
from kontor_marketing.application.stock_alerts import StockNotices
from kontor_marketing.consumers.catalog import catalog_categories
from kontor_marketing.consumers.orders import coupon_redemptions
from kontor_marketing.consumers.privacy import privacy_participant
from kontor_marketing.consumers.profiles import profiles
from kontor_marketing.consumers.stock import stock_alerts
from kontor_marketing.context import MarketingContext
from kontor_marketing.domain.campaign import QuietHours
from kontor_marketing.domain.feedback import is_feedback_address
from kontor_marketing.domain.links import LinkSigner
from kontor_marketing.outbound import KitMailSender
from kontor_marketing.settings import MarketingSettings
from kontor_marketing.store.indexes import ensure_indexes
from kontor_marketing.store.queries import MarketingQueries
from kontor_marketing.store.unit_of_work import MongoMarketingUnitOfWork


def definition(settings: MarketingSettings, clock: Clock = utc_now) -> ServiceDefinition:
    return ServiceDefinition(
        settings=settings,
        title="Kontor marketing",
        description="Campaigns, coupons and consent, planned from what worked before.",
        routers=[
            planning_router,  # the first thing a marketer sees
            campaigns_router,
            newsletter_router,
            coupons_router,
            coupon_pools_router,
            profiles_router,
            suppressions_router,
            stock_alerts_router,
        ],
        subscriptions=[
            privacy_participant(clock),
            coupon_redemptions(),
            catalog_categories(),
            profiles(
                timedelta(days=settings.attribution_window_days),
                Flow(
                    consent_links(settings),
                    timedelta(seconds=settings.cart_reminder_after_s),
                    settings.imprint,
                ),
                clock,
                review_flow=Flow(
                    consent_links(settings),
                    timedelta(days=settings.review_request_after_days),
                    settings.imprint,
                ),
            ),
            stock_alerts(
                StockNotices(
                    consent_links(settings),
                    settings.shop_url,
                    settings.imprint,
                    settings.utm_source,
                ),
                clock,
            ),
        ],
        indexes=ensure_indexes,
        ensure_topics=settings.kafka_ensure_topics,
        sends_mail=True,  # confirmations, newsletters: the relay in a cluster (ADR 0046)
    )


def link_signer(settings: MarketingSettings) -> LinkSigner | None:
    """From ``link_secret``, else derived from the privacy master key (every replica
    has it), else None (the public routes answer 503)."""
    if settings.link_secret is not None:
        return LinkSigner(settings.link_secret.get_secret_value().encode())
    master = master_key_of(settings)
    if master is None:
        return None
    return LinkSigner(
        hmac.new(master.secret, b"kontor marketing links v1", hashlib.sha256).digest()
    )


def consent_links(settings: MarketingSettings) -> ConsentLinks | None:
    signer = link_signer(settings)
    if signer is None:
        return None
    return ConsentLinks(
        signer, settings.public_base_url.rstrip("/"), timedelta(hours=settings.confirm_link_hours)
    )


def create_app(
    settings: MarketingSettings | None = None,
    clock: Clock = utc_now,
    mail_sender: MailSender | None = None,
) -> FastAPI:
    settings = settings or MarketingSettings()
    service = definition(settings, clock)
    app = create_service_app(service)
    store = app.state.kit.store
    transactor = MongoTransactor(store, MongoMarketingUnitOfWork)
    context = MarketingContext(
        transactor=transactor,
        queries=MarketingQueries(store.db),
        clock=clock,
        answers=Answers(store),
        public_limiter=RateLimiter(settings.subscribe_rate_limit),
        links=consent_links(settings),
        imprint=settings.imprint,
        utm_source=settings.utm_source,
    )
    attach_context(app, context)
    Sweeper(
        "segment-refresh",
        lambda: refresh_all(transactor, clock=context.clock),
        interval_s=settings.segment_refresh_interval_s,
    ).runs_with(service)
    sender = mail_sender or KitMailSender(
        SmtpSender(smtp_config(settings), clock=lambda: context.clock()),
        mail_from=settings.mail_from,
        bounce_address=settings.bounce_address,
    )
    app.state.smtp_receiver = None
    if settings.smtp_receiver:
        bounces = settings.bounce_address
        app.state.smtp_receiver = SmtpReceiver(
            feedback_receiver(transactor, bounce_address=bounces, clock=context.clock),
            host=settings.smtp_receiver_host,
            port=settings.smtp_receiver_port,
            max_bytes=settings.smtp_receiver_max_bytes,
            accepts=lambda address: is_feedback_address(address, bounces),
            hostname=bounces.rpartition("@")[2],
        ).runs_with(service)
    quiet = quiet_hours(settings)  # advertising due inside them waits (ADR 0119)
    Sweeper(
        "marketing-mails",
        lambda: send_due_mails(
            transactor,
            sender,
            clock=context.clock,
            limit=settings.mail_per_round,
            uwg_7_3=settings.uwg_7_3_existing_customers,
            quiet=quiet,
        ),
        interval_s=settings.mail_sweep_interval_s,
    ).runs_with(service)
    win_back = Flow(context.links, timedelta(days=settings.win_back_after_days), settings.imprint)
    Sweeper(
        "win-back",
        lambda: win_back_due(transactor, win_back, clock=context.clock),
        interval_s=settings.segment_refresh_interval_s,
    ).runs_with(service)
    entries = Flow(context.links, timedelta(0), settings.imprint, settings.utm_source)
    Sweeper(
        "segment-entry-mails",
        lambda: entry_mails_due(transactor, entries, clock=context.clock),
        interval_s=settings.campaign_sweep_interval_s,
    ).runs_with(service)
    if context.links is not None:
        links, rules = CampaignLinks(context.links, settings.utm_source), send_rules(settings)
        Sweeper(
            "campaign-dispatch",
            lambda: dispatch_due(transactor, links=links, rules=rules, clock=context.clock),
            interval_s=settings.campaign_sweep_interval_s,
        ).runs_with(service)
    return app


def quiet_hours(settings: MarketingSettings) -> QuietHours:
    """The hours no advertising leaves in, in the shop's time zone (Europe/Berlin)."""
    start, end = (time.fromisoformat(t) for t in settings.quiet_hours.split("-"))
    return QuietHours(start, end, BERLIN)


def send_rules(settings: MarketingSettings) -> SendRules:
    return SendRules(
        imprint=settings.imprint,
        per_week=settings.frequency_cap_per_week,
        quiet=quiet_hours(settings),
        uwg_7_3=settings.uwg_7_3_existing_customers,
    )


def run() -> None:
    run_service(create_app, MarketingSettings)
