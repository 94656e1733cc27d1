"""Builds a Kontor service: one call wires what every service shares.

A service's ``create_app(settings)`` describes itself in a :class:`ServiceDefinition`
(its routers, its subscriptions, its indexes, its migrations, its hooks) and gets a
FastAPI app whose lifespan connects Mongo, creates the indexes, runs the migrations not
yet done (:mod:`kontor_servicekit.migrations`), starts the outbox relay and the
consumers, and stops them in the reverse order, draining the outbox and committing
offsets on the way out.

:func:`create_service_app` is composed of named steps, each usable and readable on
its own: :func:`build_kit` (store, broker, producer holder, relay, consumers,
metrics), :func:`service_lifespan` (start and stop in order),
:func:`install_http_pipeline` (authenticator, error handlers, middlewares) and
:func:`include_routes` (operations, admin, the service's routers).

The Kafka producer binds to the running event loop, so it is made in the lifespan;
the relay and the consumers get it from a :class:`ProducerHolder` they are given
at construction.

**A typed container per service** (:mod:`kontor_servicekit.context`): ``main.py``
builds one object with what the routes need and attaches it with
``attach_context(app, ...)``; routes get it typed through ``context_dependency``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from kontor_contracts.registry import REGISTRY, dead_letter_topic
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from pymongo.asynchronous.database import AsyncDatabase

from kontor_servicekit.auth import AuthSettings, install_authenticator
from kontor_servicekit.browser import SecurityHeadersMiddleware
from kontor_servicekit.consumer import ConsumerRuntime, Subscription, register_subscriptions
from kontor_servicekit.context import (  # re-exported: the container goes with the app
    CONTEXT_ATTRIBUTE as CONTEXT_ATTRIBUTE,
)
from kontor_servicekit.context import attach_context as attach_context
from kontor_servicekit.context import context_dependency as context_dependency
from kontor_servicekit.context import context_of as context_of
from kontor_servicekit.deadletters import dead_letter_router
from kontor_servicekit.docs import install_docs
from kontor_servicekit.errors import (
    BodySizeLimitMiddleware,
    StrictJsonMiddleware,
    install_error_handlers,
    problem_instance,
    problem_response,
)
from kontor_servicekit.kafka import create_producer, ensure_topics
from kontor_servicekit.logging import (
    CorrelationIdMiddleware,
    configure_logging,
    service_log_context,
)
from kontor_servicekit.metrics import HttpMetricsMiddleware, ServiceMetrics
from kontor_servicekit.migrations import Migration, run_migrations
from kontor_servicekit.outbox import OutboxRelay
from kontor_servicekit.outbox_admin import outbox_router
from kontor_servicekit.privacy.setup import PrivacyKit, privacy_kit
from kontor_servicekit.settings import ServiceSettings
from kontor_servicekit.store import (
    DAY_S,
    Document,
    KitRetention,
    Store,
    TransactionAborted,
    create_client,
)
from kontor_servicekit.telemetry import configure_tracing, mongo_command_tracer

log = logging.getLogger(__name__)

IndexSetup = Callable[[AsyncDatabase[Document]], Awaitable[None]]
C = TypeVar("C")

#: The ``app.state`` attribute that holds the service's typed container.


@dataclass
class ServiceDefinition:
    """What makes one service different from the others."""

    settings: ServiceSettings
    title: str
    description: str
    routers: list[APIRouter] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)
    indexes: IndexSetup | None = None
    """Creates the service's indexes (only that: data changes are ``migrations``)."""
    migrations: list[Migration] = field(default_factory=list)
    """Run once each, in order, after the indexes and before the relay and consumers."""
    version: str = "0.1.0"
    ensure_topics: bool = False
    on_started: list[Callable[[Kit], Awaitable[None]]] = field(default_factory=list)
    """Run after the relay and the consumers started (read when the app starts)."""
    on_stopping: list[Callable[[Kit], Awaitable[None]]] = field(default_factory=list)
    """Run first on shutdown, e.g. to stop background tasks started in ``on_started``."""
    readiness: dict[str, Callable[[Kit], Awaitable[str]]] = field(default_factory=dict)
    """Extra checks of ``/health/ready`` by name: each answers ``"ok"`` or why the
    service cannot do its work (billing: the seller's data is incomplete)."""
    sends_mail: bool = False
    """It sends mail through the SMTP relay (``smtp_*``): in a cluster its NetworkPolicy
    lets it reach the relay (``deploy/k8s/generate.py``, ADR 0046)."""

    @property
    def name(self) -> str:
        return self.settings.service_name


class ProducerHolder:
    """The service's Kafka producer, from the moment the lifespan started it.

    The relay and the consumer runtime are built before the event loop runs and get
    this holder instead of the producer; it forwards ``send`` and ``send_and_wait``
    to the started producer and refuses them (``RuntimeError``) before and after.
    """

    def __init__(self) -> None:
        self._producer: AIOKafkaProducer | None = None

    @property
    def started(self) -> bool:
        return self._producer is not None

    @property
    def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("the Kafka producer is not started (outside the app's lifespan)")
        return self._producer

    async def start(self, producer: AIOKafkaProducer) -> None:
        await producer.start()
        self._producer = producer

    async def stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    # Same signatures as AIOKafkaProducer's (the relay's Producer and the consumers'
    # DeadLetterProducer protocols): forwarded as they are.
    async def send(self, *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = await self.producer.send(*args, **kwargs)
        return future

    async def send_and_wait(self, *args: Any, **kwargs: Any) -> Any:
        return await self.producer.send_and_wait(*args, **kwargs)


@dataclass
class Kit:
    """The running service's shared parts, at ``app.state.kit``."""

    definition: ServiceDefinition
    settings: ServiceSettings
    store: Store
    producers: ProducerHolder
    broker: KafkaBroker
    relay: OutboxRelay
    metrics: ServiceMetrics
    consumers: ConsumerRuntime
    tracer_provider: TracerProvider
    privacy: PrivacyKit = field(default_factory=lambda: PrivacyKit(None, None, None))
    """The key store and pseudonyms; its sealer seals the outbox and opens events for
    the subscriptions that ask (ADR 0036). Empty without a privacy master key."""

    @property
    def producer(self) -> AIOKafkaProducer:
        """The started producer (only inside the app's lifespan)."""
        return self.producers.producer


def publishes(service: str) -> list[str]:
    """The contract topics a service produces to (the ones it owns, and protocol topics
    it answers on, ``TopicSpec.producers``)."""
    return sorted(t.name for t in REGISTRY.produced_by(service))


def consumes(definition: ServiceDefinition) -> list[str]:
    return sorted({t for s in definition.subscriptions for t in s.topics()})


def dead_letter_topics(definition: ServiceDefinition) -> list[str]:
    return sorted(dead_letter_topic(s.group(definition.name)) for s in definition.subscriptions)


#: What the kit serves for operators and tools, never through a public ingress:
#: documentation, metrics, health and the event catalogue.
OPERATIONS_PATHS = (
    "/docs",
    "/redoc",
    "/openapi.json",
    "/asyncapi.json",
    "/metrics",
    "/health/live",
    "/health/ready",
)


def api_routers(definition: ServiceDefinition) -> list[APIRouter]:
    """The routers of the service's API: the kit's admin APIs, then the service's own."""
    routers = [outbox_router(definition.name)]
    if definition.subscriptions:
        routers.append(dead_letter_router(definition.name))
    return routers + list(definition.routers)


def api_path_prefixes(definition: ServiceDefinition) -> list[str]:
    """The first path segment of every API route (``/products``, ``/admin``), sorted.

    What a public ingress routes to the service (and nothing of :data:`OPERATIONS_PATHS`).
    """
    prefixes = set()
    for router in api_routers(definition):
        for route in iter_route_contexts(router.routes):
            path = route.path or ""
            segment = path.split("/")[1] if path.startswith("/") else ""
            if not segment or "{" in segment:
                raise ValueError(f"{definition.name}: {path!r} has no fixed first segment")
            prefixes.add(f"/{segment}")
    clash = [p for p in OPERATIONS_PATHS if any(p.startswith(f"{x}/") or p == x for x in prefixes)]
    if clash:
        raise ValueError(f"{definition.name}: API prefixes would expose {clash}")
    return sorted(prefixes)


def topics_to_provision(definition: ServiceDefinition) -> list[tuple[str, int]]:
    prefix = definition.settings.topic_prefix
    names = publishes(definition.name) + consumes(definition)
    wanted = [(prefix + n, REGISTRY.topic(n).partitions) for n in names]
    wanted += [(prefix + n, 1) for n in dead_letter_topics(definition)]
    return wanted


def create_service_app(definition: ServiceDefinition) -> FastAPI:
    """The FastAPI app of a service, with its consumers and relay in the lifespan."""
    kit = build_kit(definition)
    app = FastAPI(
        title=definition.title,
        description=definition.description,
        version=definition.version,
        lifespan=service_lifespan(kit),
        docs_url=None,  # FastAPI's pages load Swagger UI from a CDN; install_docs serves it
        redoc_url=None,
    )
    app.state.kit = kit
    install_http_pipeline(app, kit)
    install_docs(app)
    include_routes(app, kit)
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=kit.tracer_provider, excluded_urls="health/.*,metrics"
    )
    return app


def build_kit(definition: ServiceDefinition) -> Kit:
    """Every shared part of the service, constructed but not started."""
    settings = definition.settings
    name = definition.name
    configure_logging(name, settings.log_level)
    tracer_provider = configure_tracing(name, settings.otlp_endpoint)
    metrics = ServiceMetrics(name)
    client = create_client(
        settings.mongo_url,
        app_name=f"kontor-{name}",
        event_listeners=[mongo_command_tracer(tracer_provider), metrics.db_listener()],
    )
    store = Store(client, settings.mongo_database, producer=name)
    privacy = privacy_kit(settings, store)
    store.sealer = privacy.sealer
    store.subject_ids = privacy.pseudonyms.subject_id if privacy.pseudonyms else None
    store.export_parts = privacy.export_parts
    producers = ProducerHolder()
    relay = build_relay(settings, store, producers, metrics, tracer_provider)
    broker = build_broker(settings, tracer_provider)
    consumers = build_consumers(definition, broker, store, producers, metrics, tracer_provider)
    consumers.unsealer = privacy.sealer
    kit = Kit(
        definition,
        settings,
        store,
        producers,
        broker,
        relay,
        metrics,
        consumers,
        tracer_provider,
        privacy,
    )
    install_metric_refreshers(kit)
    return kit


def build_broker(settings: ServiceSettings, tracer_provider: TracerProvider) -> KafkaBroker:
    """FastStream's broker for the consumers, traced with the service's provider."""
    name = settings.service_name
    return KafkaBroker(
        settings.kafka_bootstrap,
        security=settings.faststream_security(),
        middlewares=[KafkaTelemetryMiddleware(tracer_provider=tracer_provider)],
        client_id=f"kontor-{name}-consumer",
        logger=logging.getLogger(f"kontor.{name}.broker"),
    )


def build_relay(
    settings: ServiceSettings,
    store: Store,
    producers: ProducerHolder,
    metrics: ServiceMetrics,
    tracer_provider: TracerProvider,
) -> OutboxRelay:
    return OutboxRelay(
        store,
        producers,
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


def build_consumers(
    definition: ServiceDefinition,
    broker: KafkaBroker,
    store: Store,
    producers: ProducerHolder,
    metrics: ServiceMetrics,
    tracer_provider: TracerProvider | None = None,
) -> ConsumerRuntime:
    """The consumer runtime with every subscription registered on ``broker``."""
    settings = definition.settings
    runtime = ConsumerRuntime(
        service=definition.name,
        store=store,
        producer=producers,
        metrics=metrics,
        topic_prefix=settings.topic_prefix,
        max_attempts=settings.consumer_max_attempts,
        retry_backoff_s=settings.consumer_retry_backoff_s,
        max_message_bytes=settings.kafka_max_message_bytes,
        batch_max_events=settings.consumer_batch_max_events,
        batch_time_budget_s=settings.consumer_batch_time_budget_s,
        tracer_provider=tracer_provider,
    )
    register_subscriptions(
        broker,
        runtime,
        definition.subscriptions,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        rebalance_timeout_ms=settings.kafka_rebalance_timeout_ms,
        batch_timeout_ms=settings.consumer_batch_timeout_ms,
    )
    return runtime


def install_metric_refreshers(kit: Kit) -> None:
    """Gauges read right before a scrape: outbox backlog and failures, consumer lag."""
    metrics, relay, runtime = kit.metrics, kit.relay, kit.consumers

    async def refresh_outbox() -> None:
        metrics.outbox_backlog.set(await relay.backlog())
        metrics.outbox_failed.set(await relay.failed_count())

    async def refresh_lag() -> None:
        await _refresh_consumer_lag(metrics, runtime)

    metrics.add_refresher(refresh_outbox)
    metrics.add_refresher(refresh_lag)


async def _refresh_consumer_lag(metrics: ServiceMetrics, runtime: ConsumerRuntime) -> None:
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


def service_lifespan(kit: Kit) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    """Start in order (database, topics, producer, relay, consumers, hooks); stop reversed."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # the relay's, the consumers' and the hooks' tasks inherit the service's log name
        with service_log_context(kit.definition.name):
            try:
                await prepare_database(kit)
                await start_messaging(kit)
                for hook in kit.definition.on_started:
                    await hook(kit)
            except BaseException:
                with contextlib.suppress(Exception):
                    await stop_service(kit)  # what started stops; the client is closed
                raise
            address = f"{kit.settings.http_host}:{kit.settings.http_port}"
            log.info("%s started on %s", kit.definition.name, address)
            try:
                yield
            finally:
                await stop_service(kit)

    return lifespan


def kit_retention(settings: ServiceSettings) -> KitRetention:
    """The TTLs of the kit's own collections (outbox, inbox, dead letters) from settings."""
    return KitRetention(
        outbox_sent_s=round(settings.outbox_sent_keep_days * DAY_S),
        inbox_s=round(settings.inbox_keep_days * DAY_S),
        dead_letters_s=round(settings.dead_letter_keep_days * DAY_S),
    )


async def prepare_database(kit: Kit) -> None:
    """The kit's indexes, the service's, then the migrations not yet done."""
    await prepare_store(kit.definition, kit.store)


async def prepare_store(definition: ServiceDefinition, store: Store) -> None:
    """``prepare_database`` on any store of the service (a replay's scratch database)."""
    await store.ensure_indexes(kit_retention(definition.settings))
    if definition.indexes is not None:
        await definition.indexes(store.db)
    await run_migrations(store, definition.migrations)


async def start_messaging(kit: Kit) -> None:
    """Topics (where the service provisions them), the producer, the relay, the consumers.

    The consumer groups join concurrently in the background (``kit.consumers.status()``,
    ``/health/ready``): the lifespan, and with it HTTP, does not wait for the joins.
    """
    if kit.definition.ensure_topics:
        await ensure_topics(kit.settings, topics_to_provision(kit.definition))
    await kit.producers.start(create_producer(kit.settings))
    kit.relay.start()
    kit.consumers.start_in_background(kit.broker)


async def stop_service(kit: Kit) -> None:
    """Hooks, consumers (offsets of handled messages committed), outbox drained, clients."""
    log.info("%s stopping", kit.definition.name)
    for stop_hook in kit.definition.on_stopping:
        with contextlib.suppress(Exception):
            await stop_hook(kit)
    await kit.consumers.stop_starting()
    with contextlib.suppress(Exception):
        await kit.broker.stop()
    await kit.relay.stop(grace_s=kit.settings.shutdown_grace_s)
    with contextlib.suppress(Exception):
        await kit.producers.stop()
    await kit.store.client.close()


def install_http_pipeline(app: FastAPI, kit: Kit) -> None:
    """Token verification, problem+json errors, metrics, standard JSON only, body limit,
    correlation ids, the browser's defences (outermost: on every answer, 413 included)."""
    settings = kit.settings
    install_authenticator(
        app,
        AuthSettings(
            public_key_pem=settings.public_key_pem(),
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
        ),
    )
    install_error_handlers(app)
    app.add_exception_handler(TransactionAborted, _contended)
    app.add_middleware(StrictJsonMiddleware)  # inside the body limit: reads a bounded body
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(CorrelationIdMiddleware, service=kit.definition.name)
    app.add_middleware(SecurityHeadersMiddleware)
    # outermost: the 400 (hostile JSON) and 413 (oversized) refusals above are counted too
    app.add_middleware(HttpMetricsMiddleware, metrics=kit.metrics)


def include_routes(app: FastAPI, kit: Kit) -> None:
    """Operations, the admin APIs of the kit, then the service's own routers."""
    app.include_router(_operations_router(kit))
    for router in api_routers(kit.definition):
        app.include_router(router)


async def _contended(request: Request, exc: Exception) -> Response:
    return problem_response(
        503,
        detail="the data is busy (a concurrent change); retry shortly",
        instance=problem_instance(request.scope),
        headers={"Retry-After": "1"},
    )


def _operations_router(kit: Kit) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get(
        "/health/live", summary="The process is up (and its consumers did not fail to start)"
    )
    async def live() -> JSONResponse:
        consumers = kit.consumers.status()
        if consumers.startswith("failed"):
            return JSONResponse({"status": "failed", "consumers": consumers}, status_code=503)
        return JSONResponse({"status": "ok"})

    @router.get(
        "/health/ready",
        summary="The database and the broker are reachable",
        description="`checks.consumers` appears while the consumer groups are `joining` "
        "(until each has its first assignment), which does not make the service unready "
        "(events wait in their topics), and when their start failed, which does.",
    )
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
        for name, check in kit.definition.readiness.items():
            try:
                checks[name] = await asyncio.wait_for(check(kit), timeout=2.0)
            except Exception as exc:
                checks[name] = f"failed: {type(exc).__name__}"
        ok = all(v == "ok" for v in checks.values())
        consumers = kit.consumers.status()
        if consumers != "ok":  # listed while joining (still ready) or when failed (not)
            checks["consumers"] = consumers
            ok = ok and not consumers.startswith("failed")
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
