"""Kafka clients built from settings: the producer and topic provisioning."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from kontor_servicekit.settings import ServiceSettings

log = logging.getLogger(__name__)


def create_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    """acks=all always; the idempotent producer where the broker supports it."""
    return AIOKafkaProducer(
        **settings.kafka_client_options(),
        client_id=f"kontor-{settings.service_name}",
        acks="all",
        enable_idempotence=settings.kafka_idempotent,
        linger_ms=5,
        max_batch_size=256 * 1024,
        request_timeout_ms=30_000,
    )


async def ensure_topics(
    settings: ServiceSettings, topics: Iterable[tuple[str, int]], *, replication: int = 1
) -> list[str]:
    """Create the missing topics (name, partitions); returns the names created.

    For one machine and tests only: in a cluster the topics are declared as
    Strimzi ``KafkaTopic`` resources and services are not allowed to create them.
    """
    wanted = dict(topics)
    admin = AIOKafkaAdminClient(**settings.kafka_client_options())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name=name, num_partitions=parts, replication_factor=replication)
            for name, parts in wanted.items()
            if name not in existing
        ]
        created: list[str] = []
        for topic in missing:
            try:
                await admin.create_topics([topic])
                created.append(topic.name)
            except TopicAlreadyExistsError:
                pass
        if created:
            log.info("created topics %s", created)
        return created
    finally:
        await admin.close()
