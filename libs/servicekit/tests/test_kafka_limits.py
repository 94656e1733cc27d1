"""One message size limit on the producer, the consumers and the topics Kontor creates.

On the real broker: a message exactly at ``kafka_max_message_bytes`` goes through the
kit's producer into a topic made by ``ensure_topics`` and out of a consumer with the
kit's fetch limits; one byte more is refused by the producer, before the broker.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import MessageSizeTooLargeError
from kontor_servicekit.kafka import (
    consumer_size_options,
    create_producer,
    ensure_topics,
    record_size,
    topic_configs,
)
from kontor_servicekit.settings import ServiceSettings

pytestmark = pytest.mark.integration

LIMIT = 256 * 1024


def value_of_record_size(size: int, key: bytes) -> bytes:
    """A value such that the record (key, value, no headers) measures ``size`` bytes."""
    value = b"x" * (size - 200)
    while record_size(key, value, []) < size:
        value += b"x"
    assert record_size(key, value, []) == size
    return value


async def topic_config(settings: ServiceSettings, topic: str) -> dict[str, str]:
    admin = AIOKafkaAdminClient(**settings.kafka_client_options())
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        await admin.close()
    [resource] = response.resources
    return {entry[0]: entry[1] for entry in resource[4]}


async def test_a_message_at_the_limit_passes_and_one_byte_more_is_refused(
    kit_settings_for: Any,
) -> None:
    settings = kit_settings_for("orders").model_copy(update={"kafka_max_message_bytes": LIMIT})
    topic = settings.topic("limits.check.v1")
    assert await ensure_topics(settings, [(topic, 1)]) == [topic]
    assert (await topic_config(settings, topic)).get("max.message.bytes") == str(LIMIT)
    assert topic_configs(LIMIT) == {"max.message.bytes": str(LIMIT)}

    key = b"k-1"
    at_limit = value_of_record_size(LIMIT, key)
    producer = create_producer(settings)
    await producer.start()
    try:
        await producer.send_and_wait(topic, at_limit, key=key)
        with pytest.raises(MessageSizeTooLargeError):
            await producer.send_and_wait(topic, at_limit + b"x", key=key)
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        **settings.kafka_client_options(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **consumer_size_options(LIMIT),
    )
    await consumer.start()
    received: list[bytes] = []
    try:
        deadline = time.monotonic() + 15
        while not received and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                received += [r.value for r in records if r.value is not None]
    finally:
        await consumer.stop()
    assert received == [at_limit]
