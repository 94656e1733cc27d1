"""Composition root of the support service: the one place where its parts are wired."""

from __future__ import annotations

import secrets
from datetime import timedelta

from fastapi import FastAPI
from kontor_servicekit.blobs import BlobStore
from kontor_servicekit.clock import Clock, utc_now
from kontor_servicekit.context import attach_context
from kontor_servicekit.idempotency import Answers
from kontor_servicekit.links import LinkSigner
from kontor_servicekit.mail import SmtpReceiver, SmtpSender, smtp_config
from kontor_servicekit.privacy.keys import MasterKey
from kontor_servicekit.privacy.participant import privacy_subscription
from kontor_servicekit.ratelimit import RateLimiter
from kontor_servicekit.runner import run_service
from kontor_servicekit.service import ServiceDefinition, create_service_app
from kontor_servicekit.sweeper import Sweeper
from kontor_servicekit.uow import MongoTransactor

from kontor_support.api import chats, contacts, macros, products, ratings, tickets
from kontor_support.application.chats import chats_left_to_mail
from kontor_support.application.context import open_undelivered_tickets
from kontor_support.application.privacy import SupportPrivacy
from kontor_support.application.ratings import RatingLinks
from kontor_support.application.retention import (
    ContextRetention,
    anonymise_old_tickets,
    forget_old_context,
)
from kontor_support.application.sla import german_calendar, sweep_tickets
from kontor_support.channels.chat import ChatChannel, ChatHub
from kontor_support.channels.mail_imap import (
    ImapConfig,
    ImaplibSession,
    fallback_message_id,
    poll_mailbox,
)
from kontor_support.channels.mail_out import send_due_mail
from kontor_support.channels.mail_smtp import accepting, mail_receiver, store_mail
from kontor_support.consumers.alerts import tickets_from_alerts
from kontor_support.consumers.context import context_from_billing, context_from_orders
from kontor_support.consumers.products import products_from_catalog
from kontor_support.context import SupportContext
from kontor_support.domain.sla import SlaPolicy
from kontor_support.settings import SupportSettings
from kontor_support.store.indexes import ensure_indexes
from kontor_support.store.migrations import MIGRATIONS
from kontor_support.store.queries import (
    ProductQueries,
    RatingQueries,
    SupportQueries,
    TicketQueries,
)
from kontor_support.store.unit_of_work import MongoSupportUnitOfWork


def definition(
    settings: SupportSettings, clock: Clock = utc_now, privacy: SupportPrivacy | None = None
) -> ServiceDefinition:
    return ServiceDefinition(
        settings=settings,
        title="Kontor support",
        description="Customer contact on every channel: tickets and their answers.",
        routers=[
            tickets.router,
            chats.router,
            contacts.router,
            products.router,
            macros.router,
            ratings.router,
        ],
        subscriptions=[
            context_from_orders(clock),
            context_from_billing(clock, last_dunning_level=settings.last_dunning_level),
            products_from_catalog(),
            tickets_from_alerts(clock),
            privacy_subscription(
                "support",
                privacy or SupportPrivacy(),
                unit_of_work=MongoSupportUnitOfWork,
                clock=clock,
            ),
        ],
        indexes=ensure_indexes,
        migrations=MIGRATIONS,
        ensure_topics=settings.kafka_ensure_topics,
        sends_mail=True,  # replies and rating mails
    )


def create_app(settings: SupportSettings | None = None, clock: Clock = utc_now) -> FastAPI:
    settings = settings or SupportSettings()
    privacy = SupportPrivacy()  # its blob store is known once the app has its database
    app = create_service_app(definition(settings, clock, privacy))
    store = app.state.kit.store
    transactor = MongoTransactor(store, MongoSupportUnitOfWork)
    queries = SupportQueries(store.db)
    blobs = BlobStore(store.db, "attachments")
    privacy.blobs = blobs
    context = SupportContext(
        transactor=transactor,
        queries=queries,
        clock=clock,
        tickets=TicketQueries(store.db),
        answers=Answers(store),
        blobs=blobs,
        mail_domain=settings.mail_domain,
        chat=ChatChannel(ChatHub(transactor, queries, clock), _chat_secret(settings), blobs),
        chat_token_ttl_s=settings.chat_token_ttl_s,
        chat_attachment_max_bytes=settings.chat_attachment_max_bytes,
        chat_limiter=RateLimiter(settings.chat_open_rate_limit),
        products=ProductQueries(store.db),
        return_instructions=settings.return_instructions,
        contact_webhook_secret=(
            settings.contact_webhook_secret.get_secret_value().encode("utf-8")
            if settings.contact_webhook_secret is not None
            else None
        ),
        ratings=RatingQueries(store.db),
        rating_links=_rating_links(settings, app.state.kit.privacy.master),
        rating_mail=settings.rating_mail,
    )
    attach_context(app, context)
    calendar = german_calendar(settings.holiday_state)
    policy = SlaPolicy()
    Sweeper(
        "ticket-sla",
        lambda: sweep_tickets(
            context.transactor,
            lambda now: context.tickets.to_sweep(now, limit=200),
            clock=context.clock,
            policy=policy,
            calendar=calendar,
        ),
        interval_s=settings.sla_sweep_interval_s,
    ).runs_with(app.state.kit.definition)
    _mail(app, settings, context)
    Sweeper(
        "undelivered-orders",
        lambda: open_undelivered_tickets(
            context.transactor,
            context.queries.undelivered,
            clock=context.clock,
            after=timedelta(days=settings.undelivered_after_days),
        ),
        interval_s=settings.sla_sweep_interval_s,
    ).runs_with(app.state.kit.definition)
    Sweeper(
        "ticket-retention",
        lambda: anonymise_old_tickets(
            context.transactor,
            context.tickets.past_retention,
            clock=context.clock,
            keep=timedelta(days=settings.ticket_keep_days),
            blobs=context.blobs,
        ),
        interval_s=settings.retention_sweep_interval_s,
    ).runs_with(app.state.kit.definition)
    keep = ContextRetention(
        orders=timedelta(days=settings.context_order_keep_days),
        customers=timedelta(days=settings.customer_keep_days),
        chats=timedelta(days=settings.chat_keep_days),
        chat_lasts=timedelta(seconds=settings.chat_token_ttl_s),
    )
    Sweeper(
        "context-retention",
        lambda: forget_old_context(
            context.transactor, context.queries, clock=context.clock, keep=keep
        ),
        interval_s=settings.retention_sweep_interval_s,
    ).runs_with(app.state.kit.definition)
    Sweeper("chat-push", context.chat.hub.push, interval_s=settings.chat_push_interval_s).runs_with(
        app.state.kit.definition
    )
    Sweeper(
        "chat-to-mail",
        lambda: chats_left_to_mail(
            context.transactor,
            lambda: context.queries.queued_deliveries(200, channel="chat"),
            clock=context.clock,
            after=timedelta(seconds=settings.chat_email_after_s),
            mail_domain=settings.mail_domain,
        ),
        interval_s=min(settings.chat_email_after_s, 30.0),
    ).runs_with(app.state.kit.definition)
    return app


def _chat_secret(settings: SupportSettings) -> bytes:
    if settings.chat_token_secret is not None:
        return settings.chat_token_secret.get_secret_value().encode("utf-8")
    return secrets.token_bytes(32)  # one process: tokens end with a restart


def _rating_links(settings: SupportSettings, master: MasterKey | None) -> RatingLinks | None:
    """From ``rating_link_secret``, else derived from the privacy master key (every
    replica has it), else None: no rating mails."""
    if settings.rating_link_secret is not None:
        signer = LinkSigner(settings.rating_link_secret.get_secret_value().encode("utf-8"))
    elif master is not None:
        signer = LinkSigner(master.derive(b"kontor support rating links v1"))
    else:
        return None
    return RatingLinks(
        signer=signer,
        base_url=settings.public_base_url,
        valid_for=timedelta(days=settings.rating_link_days),
        mail_domain=settings.mail_domain,
    )


def _mail(app: FastAPI, settings: SupportSettings, context: SupportContext) -> None:
    """E-mail in over SMTP and the sweeper that sends queued e-mail replies."""
    app.state.smtp_receiver = None
    if settings.smtp_receiver:
        app.state.smtp_receiver = SmtpReceiver(
            mail_receiver(context.transactor, clock=context.clock, blobs=context.blobs),
            host=settings.smtp_receiver_host,
            port=settings.smtp_receiver_port,
            max_bytes=settings.smtp_receiver_max_bytes,
            accepts=accepting(settings.smtp_receiver_accept),
            hostname=settings.mail_domain,
        ).runs_with(app.state.kit.definition)
    if settings.imap_host is not None:
        _imap(app, settings, context)
    sender = SmtpSender(smtp_config(settings), clock=context.clock)
    Sweeper(
        "mail-out",
        lambda: send_due_mail(
            context.transactor, context.queries, sender, clock=context.clock, blobs=context.blobs
        ),
        interval_s=settings.mail_send_interval_s,
    ).runs_with(app.state.kit.definition)


def _imap(app: FastAPI, settings: SupportSettings, context: SupportContext) -> None:
    """E-mail in by polling an existing mailbox (ADR 0047)."""
    assert settings.imap_host and settings.imap_username and settings.imap_password
    config = ImapConfig(
        host=settings.imap_host,
        port=settings.imap_port,
        username=settings.imap_username,
        password=settings.imap_password.get_secret_value(),
        mailbox=settings.imap_mailbox,
        security=settings.imap_security,
        timeout_s=settings.imap_timeout_s,
        after=settings.imap_after,
    )
    fallback = fallback_message_id(settings.mail_domain)

    async def store(raw: bytes) -> None:
        await store_mail(
            context.transactor,
            raw,
            clock=context.clock,
            blobs=context.blobs,
            fallback_id=fallback,
        )

    Sweeper(
        "mail-in-imap",
        lambda: poll_mailbox(
            lambda: ImaplibSession(config),
            store,
            max_bytes=settings.smtp_receiver_max_bytes,
            after=config.after,
        ),
        interval_s=settings.imap_poll_interval_s,
    ).runs_with(app.state.kit.definition)


def run() -> None:
    run_service(create_app, SupportSettings)
