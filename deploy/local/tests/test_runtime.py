"""The embedded runtime really starts Tansu and SecantusDB, and really stops them."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kontor_local.runtime import (
    LocalSettings,
    Platform,
    PortInUseError,
    check_ports_free,
    ensure_topics,
    free_port,
    port_is_free,
    registry_topic_specs,
)
from pymongo import AsyncMongoClient, WriteConcern

from .helpers import is_running

pytestmark = pytest.mark.integration


def settings_for(data_dir: Path) -> LocalSettings:
    return LocalSettings(
        data_dir=data_dir, broker_port=free_port(), mongo_port=free_port(), s3_port=free_port()
    )


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    started = Platform(settings_for(tmp_path), mongo_storage=":memory:")
    started.start_infra()
    yield started
    started.stop()


async def test_kafka_round_trip_with_explicit_partitions(platform: Platform) -> None:
    topic = f"rt{uuid.uuid4().hex[:8]}.orders.order.v1"
    created = await ensure_topics(platform.kafka_bootstrap, [(topic, 3)])
    assert created == [topic]
    # idempotent: the second call creates nothing and does not fail
    assert await ensure_topics(platform.kafka_bootstrap, [(topic, 3)]) == []

    producer = AIOKafkaProducer(
        bootstrap_servers=platform.kafka_bootstrap, enable_idempotence=False, acks="all"
    )
    await producer.start()
    try:
        assert await producer.partitions_for(topic) == {0, 1, 2}
        for i in range(10):
            await producer.send_and_wait(
                topic,
                f"v{i}".encode(),
                key=f"k{i % 3}".encode(),
                headers=[("traceparent", b"00-abc-def-01")],
            )
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=platform.kafka_bootstrap,
        auto_offset_reset="earliest",
        group_id=f"g{uuid.uuid4().hex}",
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
    )
    await consumer.start()
    received: list[bytes] = []
    try:
        deadline = time.monotonic() + 15
        while len(received) < 10 and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for messages in batch.values():
                received += [m.value for m in messages if m.value is not None]
                assert all(m.headers == (("traceparent", b"00-abc-def-01"),) for m in messages)
    finally:
        await consumer.stop()
    assert sorted(received) == sorted(f"v{i}".encode() for i in range(10))


async def test_mongo_crud_and_multi_document_transaction(platform: Platform) -> None:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(platform.mongo_url)
    try:
        db = client.get_database("runtime_test", write_concern=WriteConcern(j=True))
        await db.orders.insert_one({"_id": "o-1", "total": "19.99"})
        assert await db.orders.find_one({"_id": "o-1"}) == {"_id": "o-1", "total": "19.99"}

        async with client.start_session() as session, await session.start_transaction():
            await db.orders.insert_one({"_id": "o-2"}, session=session)
            await db.outbox.insert_one({"_id": "e-2", "order": "o-2"}, session=session)
        assert await db.outbox.count_documents({"order": "o-2"}) == 1

        with pytest.raises(RuntimeError, match="abort"):
            async with client.start_session() as session, await session.start_transaction():
                await db.orders.insert_one({"_id": "o-3"}, session=session)
                await db.outbox.insert_one({"_id": "e-3", "order": "o-3"}, session=session)
                raise RuntimeError("abort")
        assert await db.orders.find_one({"_id": "o-3"}) is None
        assert await db.outbox.find_one({"_id": "e-3"}) is None
    finally:
        await client.close()


def test_stop_leaves_no_child_process(tmp_path: Path) -> None:
    platform = Platform(settings_for(tmp_path), mongo_storage=":memory:")
    platform.start_infra()
    pids = [p.pid for p in platform.children()]  # database, object store, broker
    assert len(pids) == 3 and all(pid is not None and is_running(pid) for pid in pids)
    platform.stop()
    assert not any(is_running(pid) for pid in pids if pid is not None)
    assert port_is_free(platform.settings.broker_port)
    assert port_is_free(platform.settings.mongo_port)
    assert port_is_free(platform.settings.s3_port)


def test_taken_port_is_named() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(PortInUseError, match=rf"port {port} \(broker\) is already in use"):
            check_ports_free({"database": free_port(), "broker": port})


def test_database_survives_restart_with_disk_data_dir(tmp_path: Path) -> None:
    from pymongo import MongoClient

    settings = settings_for(tmp_path)
    with Platform(settings) as first:
        first.start_infra()
        client: MongoClient[dict[str, object]] = MongoClient(first.mongo_url)
        coll = client.get_database("durable", write_concern=WriteConcern(j=True)).invoices
        coll.insert_many([{"_id": f"RE-{i}", "n": i} for i in range(50)])
        client.close()
    assert (tmp_path / "mongo").is_dir()

    with Platform(settings) as second:
        second.start_infra()
        client = MongoClient(second.mongo_url)
        coll = client.durable.invoices
        assert coll.count_documents({}) == 50
        assert coll.find_one({"_id": "RE-49"}) == {"_id": "RE-49", "n": 49}
        client.close()


def test_registry_topics_have_partition_counts() -> None:
    specs = registry_topic_specs(prefix="x.")
    if not specs:  # the registry is optional for the runtime
        pytest.fail("kontor_contracts.registry is expected to list topics by now")
    assert all(name.startswith("x.") and partitions >= 1 for name, partitions in specs)
    assert any(name == "x.orders.order.v1" for name, _ in specs)


async def test_run_sync_works_inside_a_running_loop(platform: Platform) -> None:
    from kontor_local.runtime import kafka_answers, mongo_answers

    assert kafka_answers(platform.kafka_bootstrap)
    assert mongo_answers(platform.mongo_url)
    await asyncio.sleep(0)
