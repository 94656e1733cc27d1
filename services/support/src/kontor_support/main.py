"""Composition root of the support service: the one place where its parts are wired."""

from __future__ import annotations

from fastapi import FastAPI
from kontor_servicekit.blobs import BlobStore
from kontor_servicekit.clock import Clock, utc_now
from kontor_servicekit.context import attach_context
from kontor_servicekit.idempotency import Answers
from kontor_servicekit.runner import run_service
from kontor_servicekit.service import ServiceDefinition, create_service_app
from kontor_servicekit.sweeper import Sweeper
from kontor_servicekit.uow import MongoTransactor

from kontor_support.api import tickets
from kontor_support.application.sla import german_calendar, sweep_tickets
from kontor_support.consumers.context import context_from_billing, context_from_orders
from kontor_support.context import SupportContext
from kontor_support.domain.sla import SlaPolicy
from kontor_support.settings import SupportSettings
from kontor_support.store.indexes import ensure_indexes
from kontor_support.store.queries import SupportQueries, TicketQueries
from kontor_support.store.unit_of_work import MongoSupportUnitOfWork


def definition(settings: SupportSettings, clock: Clock = utc_now) -> ServiceDefinition:
    return ServiceDefinition(
        settings=settings,
        title="Kontor support",
        description="Customer contact on every channel: tickets and their answers.",
        routers=[tickets.router],
        subscriptions=[
            context_from_orders(clock),
            context_from_billing(clock, last_dunning_level=settings.last_dunning_level),
        ],
        indexes=ensure_indexes,
        ensure_topics=settings.kafka_ensure_topics,
    )


def create_app(settings: SupportSettings | None = None, clock: Clock = utc_now) -> FastAPI:
    settings = settings or SupportSettings()
    app = create_service_app(definition(settings, clock))
    store = app.state.kit.store
    context = SupportContext(
        transactor=MongoTransactor(store, MongoSupportUnitOfWork),
        queries=SupportQueries(store.db),
        clock=clock,
        tickets=TicketQueries(store.db),
        answers=Answers(store),
        blobs=BlobStore(store.db, "attachments"),
        mail_domain=settings.mail_domain,
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
    return app


def run() -> None:
    run_service(create_app, SupportSettings)
