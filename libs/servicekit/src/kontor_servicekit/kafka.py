"""Kafka clients built from settings: the producer, the consumers' limits, topic provisioning.

One size limit, ``ServiceSettings.kafka_max_message_bytes``, is applied to every part
that has one: the producer refuses larger messages (``max_request_size``), the
consumers fetch up to that much per partition (``max_partition_fetch_bytes``), and
topics Kontor creates itself carry it as ``max.message.bytes`` (in k8s the generated
Strimzi ``KafkaTopic`` resources do). A message larger than the limit that reaches a
consumer anyway is dead-lettered unhandled (:mod:`kontor_servicekit.consumer`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from kontor_servicekit.settings import ServiceSettings

log = logging.getLogger(__name__)

FETCH_MAX_BYTES = 50 * 1024 * 1024
"""One fetch response over all partitions: aiokafka's default, or the limit if larger."""


def create_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    """acks=all always; the idempotent producer where the broker supports it."""
    return AIOKafkaProducer(
        **settings.kafka_client_options(),
        client_id=f"kontor-{settings.service_name}",
        acks="all",
        enable_idempotence=settings.kafka_idempotent,
        linger_ms=5,
        max_batch_size=256 * 1024,
        max_request_size=settings.kafka_max_message_bytes,
        request_timeout_ms=30_000,
    )


def consumer_size_options(max_message_bytes: int) -> dict[str, int]:
    """FastStream subscriber / aiokafka consumer options for the message size limit."""
    return {
        "max_partition_fetch_bytes": max_message_bytes,
        "fetch_max_bytes": max(FETCH_MAX_BYTES, max_message_bytes),
    }


def topic_configs(max_message_bytes: int) -> dict[str, str]:
    """The configuration Kontor gives a topic it creates (the size limit)."""
    return {"max.message.bytes": str(max_message_bytes)}


def record_size(key: bytes | None, value: bytes | None, headers: Any) -> int:
    """A record's size as the producer's ``max_request_size`` check measures it."""
    return int(DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, list(headers or [])))


async def ensure_topics(
    settings: ServiceSettings, topics: Iterable[tuple[str, int]], *, replication: int = 1
) -> list[str]:
    """Create the missing topics (name, partitions); returns the names created.

    Created topics get ``max.message.bytes`` = ``kafka_max_message_bytes``; existing
    topics are left as they are. For one machine and tests only: in a cluster the
    topics are declared as Strimzi ``KafkaTopic`` resources and services are not
    allowed to create them.
    """
    wanted = dict(topics)
    configs = topic_configs(settings.kafka_max_message_bytes)
    admin = AIOKafkaAdminClient(**settings.kafka_client_options())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name=name,
                num_partitions=parts,
                replication_factor=replication,
                topic_configs=configs,
            )
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
