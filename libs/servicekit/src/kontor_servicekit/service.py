"""Builds a Kontor service: one call wires what every service shares.

A service's ``create_app(settings)`` describes itself in a :class:`ServiceDefinition`
(its routers, its subscriptions, its indexes) and gets a FastAPI app whose lifespan
connects Mongo, starts the outbox relay and the consumers, and stops them in the
reverse order, draining the outbox and committing offsets on the way out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from kontor_contracts.registry import REGISTRY, dead_letter_topic
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from pymongo.asynchronous.database import AsyncDatabase

from kontor_servicekit.auth import Authenticator, AuthSettings
from kontor_servicekit.consumer import ConsumerRuntime, Subscription, register_subscriptions
from kontor_servicekit.deadletters import dead_letter_router
from kontor_servicekit.errors import (
    BodySizeLimitMiddleware,
    install_error_handlers,
    problem_response,
)
from kontor_servicekit.kafka import create_producer, ensure_topics
from kontor_servicekit.logging import CorrelationIdMiddleware, configure_logging
from kontor_servicekit.metrics import HttpMetricsMiddleware, ServiceMetrics
from kontor_servicekit.outbox import OutboxRelay
from kontor_servicekit.outbox_admin import outbox_router
from kontor_servicekit.settings import ServiceSettings
from kontor_servicekit.store import Document, Store, TransactionAborted, create_client
from kontor_servicekit.telemetry import configure_tracing

log = logging.getLogger(__name__)

IndexSetup = Callable[[AsyncDatabase[Document]], Awaitable[None]]


@dataclass
class ServiceDefinition:
    """What makes one service different from the others."""

    settings: ServiceSettings
    title: str
    description: str
    routers: list[APIRouter] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)
    indexes: IndexSetup | None = None
    version: str = "0.1.0"
    ensure_topics: bool = False
    on_started: list[Callable[[Kit], Awaitable[None]]] = field(default_factory=list)
    on_stopping: list[Callable[[Kit], Awaitable[None]]] = field(default_factory=list)
    """Run first on shutdown, e.g. to stop background tasks started in ``on_started``."""

    @property
    def name(self) -> str:
        return self.settings.service_name


@dataclass
class Kit:
    """The running service's shared parts, at ``app.state.kit``."""

    definition: ServiceDefinition
    settings: ServiceSettings
    store: Store
    producer: AIOKafkaProducer
    broker: KafkaBroker
    relay: OutboxRelay
    metrics: ServiceMetrics
    consumers: ConsumerRuntime


def publishes(service: str) -> list[str]:
    """The contract topics a service produces to (the ones it owns)."""
    return sorted(t.name for t in REGISTRY.owned_by(service))


def consumes(definition: ServiceDefinition) -> list[str]:
    return sorted({t for s in definition.subscriptions for t in s.topics()})


def dead_letter_topics(definition: ServiceDefinition) -> list[str]:
    return sorted(dead_letter_topic(s.group(definition.name)) for s in definition.subscriptions)


def topics_to_provision(definition: ServiceDefinition) -> list[tuple[str, int]]:
    prefix = definition.settings.topic_prefix
    names = publishes(definition.name) + consumes(definition)
    wanted = [(prefix + n, REGISTRY.topic(n).partitions) for n in names]
    wanted += [(prefix + n, 1) for n in dead_letter_topics(definition)]
    return wanted


def create_service_app(definition: ServiceDefinition) -> FastAPI:
    """The FastAPI app of a service, with its consumers and relay in the lifespan."""
    settings = definition.settings
    name = definition.name
    configure_logging(name, settings.log_level)
    tracer_provider = configure_tracing(name, settings.otlp_endpoint)
    metrics = ServiceMetrics(name)

    client = create_client(settings.mongo_url, app_name=f"kontor-{name}")
    store = Store(client, settings.mongo_database, producer=name)
    # aiokafka clients bind to the running event loop: the producer is made in the lifespan.
    producer: Any = None
    broker = KafkaBroker(
        settings.kafka_bootstrap,
        security=settings.faststream_security(),
        middlewares=[KafkaTelemetryMiddleware(tracer_provider=tracer_provider)],
        client_id=f"kontor-{name}-consumer",
        logger=logging.getLogger(f"kontor.{name}.broker"),
    )
    relay = OutboxRelay(
        store,
        producer,
        topic_prefix=settings.topic_prefix,
        batch_size=settings.outbox_batch_size,
        poll_interval_s=settings.outbox_poll_interval_s,
        lease_s=settings.outbox_lease_s,
        max_attempts=settings.outbox_max_attempts,
        retry_backoff_s=settings.outbox_retry_backoff_s,
        retry_backoff_max_s=settings.outbox_retry_backoff_max_s,
        tracer_provider=tracer_provider,
        on_published=metrics.published,
    )
    runtime = ConsumerRuntime(
        service=name,
        store=store,
        producer=producer,
        metrics=metrics,
        topic_prefix=settings.topic_prefix,
        max_attempts=settings.consumer_max_attempts,
        retry_backoff_s=settings.consumer_retry_backoff_s,
    )
    register_subscriptions(
        broker,
        runtime,
        definition.subscriptions,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        rebalance_timeout_ms=settings.kafka_rebalance_timeout_ms,
    )
    kit = Kit(definition, settings, store, producer, broker, relay, metrics, runtime)

    async def refresh_backlog() -> None:
        metrics.outbox_backlog.set(await relay.backlog())
        metrics.outbox_failed.set(await relay.failed_count())

    async def refresh_lag() -> None:
        for subscriber in runtime.subscribers:
            consumer = getattr(subscriber, "consumer", None)
            if consumer is None:
                continue
            group = getattr(subscriber, "group_id", "") or ""
            for tp in consumer.assignment():
                highwater = consumer.highwater(tp)
                if highwater is None:
                    continue
                position = await consumer.position(tp)
                metrics.consumer_lag.labels(group, tp.topic, str(tp.partition)).set(
                    max(highwater - position, 0)
                )

    metrics.add_refresher(refresh_backlog)
    metrics.add_refresher(refresh_lag)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await store.ensure_indexes()
        if definition.indexes is not None:
            await definition.indexes(store.db)
        if definition.ensure_topics:
            await ensure_topics(settings, topics_to_provision(definition))
        started_producer = create_producer(settings)
        kit.producer = relay.producer = runtime.producer = started_producer
        await started_producer.start()
        relay.start()
        await broker.start()
        for hook in definition.on_started:
            await hook(kit)
        log.info("%s started on %s:%s", name, settings.http_host, settings.http_port)
        try:
            yield
        finally:
            log.info("%s stopping", name)
            for stop_hook in definition.on_stopping:
                with contextlib.suppress(Exception):
                    await stop_hook(kit)
            with contextlib.suppress(Exception):
                await broker.stop()  # stops consuming; offsets of handled messages are committed
            await relay.stop(grace_s=settings.shutdown_grace_s)
            with contextlib.suppress(Exception):
                await started_producer.stop()
            await client.close()

    app = FastAPI(
        title=definition.title,
        description=definition.description,
        version=definition.version,
        lifespan=lifespan,
    )
    app.state.kit = kit
    app.state.authenticator = Authenticator(
        AuthSettings(
            public_key_pem=settings.public_key_pem(),
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
        )
    )
    install_error_handlers(app)
    app.add_exception_handler(TransactionAborted, _contended)
    app.add_middleware(HttpMetricsMiddleware, metrics=metrics)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(CorrelationIdMiddleware)
    app.include_router(_operations_router(kit))
    app.include_router(outbox_router(name))
    if definition.subscriptions:
        app.include_router(dead_letter_router(name))
    for router in definition.routers:
        app.include_router(router)
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=tracer_provider, excluded_urls="health/.*,metrics"
    )
    return app


async def _contended(request: Request, exc: Exception) -> Response:
    return problem_response(
        503,
        detail="the data is busy (a concurrent change); retry shortly",
        instance=request.url.path,
        headers={"Retry-After": "1"},
    )


def _operations_router(kit: Kit) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/health/live", summary="The process is up")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/health/ready", summary="The database and the broker are reachable")
    async def ready() -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(kit.store.ping(), timeout=2.0)
            checks["mongo"] = "ok"
        except Exception as exc:
            checks["mongo"] = f"unreachable: {type(exc).__name__}"
        try:
            await asyncio.wait_for(kit.producer.client.fetch_all_metadata(), timeout=2.0)
            checks["kafka"] = "ok"
        except Exception as exc:
            checks["kafka"] = f"unreachable: {type(exc).__name__}"
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": checks},
            status_code=200 if ok else 503,
        )

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def prometheus_metrics() -> Response:
        body = await kit.metrics.render()
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    @router.get("/asyncapi.json", summary="The AsyncAPI document of this service")
    async def asyncapi() -> dict[str, Any]:
        from kontor_servicekit.asyncapi import asyncapi_document

        return asyncapi_document(kit.definition)

    return router
