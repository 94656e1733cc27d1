"""The default broker storage keeps the log and the consumer offsets across SIGKILL.

Tansu on ``s3://`` against ``kontor_local.objectstore`` (ADR 0011). What is proven:
records produced before a SIGKILL of the broker, after its restart, and after a
SIGKILL of the object store are all there exactly once, in order per key; a consumer
group resumes at the offset it committed, also in the middle of a produced batch;
with ``memory`` storage the same restart loses the log (the reason for the change).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from kontor_local.runtime import LocalSettings, Platform, ensure_topics, free_port

pytestmark = pytest.mark.integration

PARTITIONS = 3


def settings(data_dir: Path, storage: str = "disk") -> LocalSettings:
    return LocalSettings(
        data_dir=data_dir,
        broker_port=free_port(),
        mongo_port=free_port(),
        s3_port=free_port(),
        broker_storage="memory" if storage == "memory" else "disk",
    )


@pytest.fixture
def platforms() -> Iterator[list[Platform]]:
    started: list[Platform] = []
    yield started
    for platform in started:
        platform.stop()


def start(platforms: list[Platform], data_dir: Path, storage: str = "disk") -> Platform:
    platform = Platform(settings(data_dir, storage), mongo_storage=":memory:")
    platforms.append(platform)
    platform.start_infra()
    return platform


def restart_broker(platform: Platform) -> None:
    assert platform.broker.process is not None
    platform.broker.process.kill()
    platform.broker.start()


async def produce(bootstrap: str, topic: str, tag: str, count: int) -> None:
    """``count`` records over 7 keys, pipelined (several records per produced batch)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        futures = [
            await producer.send(topic, f"{tag}:{i}".encode(), key=f"k{i % 7}".encode())
            for i in range(count)
        ]
        for future in futures:
            await future
    finally:
        await producer.stop()


async def read_all(bootstrap: str, topic: str) -> list[tuple[str, str]]:
    """(key, value) of every record from the earliest offset to the end."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        found: list[tuple[str, str]] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=300)).values():
                found += [(r.key.decode(), r.value.decode()) for r in records if r.key and r.value]
            if all([await consumer.position(tp) >= end[tp] for tp in tps]):
                return found
        raise AssertionError(f"did not reach the end offsets {end}; read {len(found)}")
    finally:
        await consumer.stop()


def group_consumer(bootstrap: str, topic: str, group: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
    )


async def test_log_and_offsets_survive_sigkill_of_broker_and_object_store(
    tmp_path: Path, platforms: list[Platform]
) -> None:
    platform = start(platforms, tmp_path)
    bootstrap = platform.kafka_bootstrap
    topic = f"d{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [(topic, PARTITIONS)])
    await produce(bootstrap, topic, "before", 300)

    # A group handles part of the log and commits in the middle of a produced batch.
    consumer = group_consumer(bootstrap, topic, "g")
    await consumer.start()
    handled: list[str] = []
    try:
        while len(handled) < 40:
            record = await consumer.getone()
            handled.append(record.value.decode() if record.value else "")
            tp = TopicPartition(record.topic, record.partition)
            await consumer.commit({tp: record.offset + 1})
            if tp.partition == 0 and record.offset == 20:
                break
        committed = {p: await consumer.committed(TopicPartition(topic, p)) for p in range(3)}
    finally:
        await consumer.stop()

    restart_broker(platform)  # SIGKILL, then the same storage again
    # The first produce after the restart: on s3rver this one reset the partitions.
    await produce(bootstrap, topic, "after", 300)
    assert platform.s3 is not None and platform.s3.process is not None
    platform.s3.process.kill()  # the store dies under a running broker ...
    platform.s3.start()  # ... and comes back
    await produce(bootstrap, topic, "store", 300)

    records = await read_all(bootstrap, topic)
    values = [value for _, value in records]
    assert len(values) == 900 and len(set(values)) == 900
    for tag in ("before", "after", "store"):
        assert {v for v in values if v.startswith(f"{tag}:")} == {f"{tag}:{i}" for i in range(300)}
    for key in {k for k, _ in records}:  # order per key: produced order
        numbers = [int(v.split(":")[1]) for k, v in records if k == key and "before" in v]
        assert numbers == sorted(numbers)

    # The group resumes exactly at what it committed before the SIGKILL.
    consumer = group_consumer(bootstrap, topic, "g")
    await consumer.start()
    try:
        rest: list[str] = []
        for batch in (await consumer.getmany(timeout_ms=3000)).values():  # joined, assigned
            rest += [r.value.decode() for r in batch if r.value]
        for partition, offset in committed.items():
            assert await consumer.committed(TopicPartition(topic, partition)) == offset
        deadline = time.monotonic() + 30
        while len(rest) < 900 - len(handled) and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=300)).values():
                rest += [r.value.decode() for r in batch if r.value]
    finally:
        await consumer.stop()
    assert sorted(handled + rest) == sorted(values)  # nothing skipped, nothing twice


async def test_memory_storage_loses_the_log_on_a_broker_restart(
    tmp_path: Path, platforms: list[Platform]
) -> None:
    platform = start(platforms, tmp_path, "memory")
    topic = f"m{uuid.uuid4().hex[:8]}"
    await ensure_topics(platform.kafka_bootstrap, [(topic, PARTITIONS)])
    await produce(platform.kafka_bootstrap, topic, "before", 50)
    restart_broker(platform)
    await ensure_topics(platform.kafka_bootstrap, [(topic, PARTITIONS)])
    assert await read_all(platform.kafka_bootstrap, topic) == []
