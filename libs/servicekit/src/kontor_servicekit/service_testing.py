"""Service-test harness: a service's subscriptions on FastStream's in-memory broker.

The tests marked ``service`` run the real :class:`~kontor_servicekit.consumer.Subscription`
and :class:`~kontor_servicekit.consumer.MessageHandler`, wired by
:func:`~kontor_servicekit.consumer.register_subscriptions` onto a ``KafkaBroker``
that :class:`faststream.kafka.TestKafkaBroker` keeps in memory, over a real
:class:`~kontor_servicekit.store.Store` on the session's database (one database per
test, dropped afterwards). Dead letters go to a recording producer and consumer
metrics to a recorder, so a test can assert what was parked and how each message
ended::

    @pytest.fixture
    async def billing(infra, namespace):
        async with in_memory_service(
            "billing", [INVOICING], mongo_url=infra.mongo_url, namespace=namespace
        ) as service:
            yield service

In memory every record has partition 0 and offset 0, so two dead letters of one test
share the ``dead_letters`` id ``<topic>:0:0``: a test parks at most one message per
topic if it reads the ``dead_letters`` collection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from faststream.kafka import KafkaBroker, TestKafkaBroker
from kontor_contracts.envelope import Envelope
from kontor_contracts.registry import REGISTRY
from kontor_contracts.wire import to_headers
from pymongo.asynchronous.database import AsyncDatabase

from kontor_servicekit.consumer import ConsumerRuntime, Subscription, register_subscriptions
from kontor_servicekit.recorders import DeadLetterRecorder, MetricsRecorder, Parked
from kontor_servicekit.store import Store, create_client

__all__ = [
    "DeadLetterRecorder",
    "InMemoryService",
    "MetricsRecorder",
    "Parked",
    "in_memory_service",
    "temporary_store",
]

IndexSetup = Callable[[AsyncDatabase[dict[str, Any]]], Awaitable[None]]


@dataclass
class InMemoryService:
    """A running harness: publish to it, then read the store and the recorders."""

    broker: KafkaBroker
    store: Store
    dead_letters: DeadLetterRecorder
    metrics: MetricsRecorder
    prefix: str

    def topic(self, name: str) -> str:
        """The test's name of topic ``name`` (e.g. ``orders.order.v1``): with its prefix."""
        return f"{self.prefix}{name}"

    async def publish(
        self,
        value: bytes,
        *,
        topic: str,
        key: bytes = b"k",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Deliver raw bytes on ``topic`` (unprefixed) and wait until they are handled."""
        await self.broker.publish(
            value, topic=self.topic(topic), key=key, headers=dict(headers or {})
        )

    async def publish_envelope(self, envelope: Envelope, *, topic: str | None = None) -> None:
        """Deliver ``envelope`` as its producer would: keyed by the aggregate id, with
        the wire headers; on its registered topic unless ``topic`` is given (an event
        type the registry does not know needs one)."""
        if topic is None:
            topic = REGISTRY.spec_for(envelope.type, envelope.version).topic
        headers = {name: value.decode() for name, value in to_headers(envelope)}
        await self.publish(
            envelope.to_bytes(), topic=topic, key=envelope.aggregate_id.encode(), headers=headers
        )


@asynccontextmanager
async def temporary_store(
    mongo_url: str, database: str, *, producer: str, app_name: str = "kontor-tests"
) -> AsyncIterator[Store]:
    """A :class:`Store` on a fresh database with the kit's indexes; dropped afterwards."""
    client = create_client(mongo_url, app_name=app_name)
    store = Store(client, database, producer=producer)
    try:
        await store.ensure_indexes()
        yield store
    finally:
        await client.drop_database(database)
        await client.close()


@asynccontextmanager
async def in_memory_service(
    service: str,
    subscriptions: Sequence[Subscription],
    *,
    mongo_url: str,
    namespace: str,
    indexes: IndexSetup | None = None,
    max_attempts: int = 3,
    retry_backoff_s: float = 0.001,
) -> AsyncIterator[InMemoryService]:
    """``service``'s ``subscriptions`` on an in-memory broker over database
    ``<namespace>_<service>``; topics and groups carry the prefix ``<namespace>.``.

    ``indexes`` creates the service's own indexes (the kit's are always created).
    A failing handler is tried ``max_attempts`` times before it is parked.
    """
    prefix = f"{namespace}."
    async with temporary_store(
        mongo_url,
        f"{namespace}_{service}",
        producer=service,
        app_name=f"kontor-{service}-service-tests",
    ) as store:
        if indexes is not None:
            await indexes(store.db)
        dead_letters, metrics = DeadLetterRecorder(), MetricsRecorder()
        runtime = ConsumerRuntime(
            service=service,
            store=store,
            producer=dead_letters,
            metrics=metrics,
            topic_prefix=prefix,
            max_attempts=max_attempts,
            retry_backoff_s=retry_backoff_s,
        )
        broker = KafkaBroker("127.0.0.1:9")  # never contacted: TestKafkaBroker patches it
        register_subscriptions(
            broker,
            runtime,
            list(subscriptions),
            session_timeout_ms=2000,
            heartbeat_interval_ms=500,
        )
        async with TestKafkaBroker(broker) as in_memory:
            yield InMemoryService(in_memory, store, dead_letters, metrics, prefix)
