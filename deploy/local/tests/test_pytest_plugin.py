"""The test provisioning plugin: detection, the session infra and namespaces."""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from kontor_local.pytest_plugin import Infra, Namespace, choose_kind, docker_available


def test_docker_detection_answers_quickly_and_is_false_without_an_engine() -> None:
    started = time.monotonic()
    found = docker_available()
    assert time.monotonic() - started <= 3.0
    engine_configured = bool(os.environ.get("DOCKER_HOST")) or Path("/var/run/docker.sock").exists()
    if not engine_configured:
        assert found is False


def test_env_addresses_win_and_can_be_forced() -> None:
    env = {"KONTOR_TEST_KAFKA_BOOTSTRAP": "k:9092", "KONTOR_TEST_MONGO_URL": "mongodb://m"}
    assert choose_kind(env) == "env"
    assert choose_kind({**env, "KONTOR_TEST_INFRA": "embedded"}) == "embedded"
    with pytest.raises(pytest.UsageError):
        choose_kind({"KONTOR_TEST_INFRA": "podman"})


def test_namespace_is_short_unique_and_prefixes(
    namespace: Namespace, topic_prefix: str, mongo_db_name: Callable[[str], str]
) -> None:
    assert re.fullmatch(r"t[0-9a-f]{8}", namespace)
    assert isinstance(namespace, str)
    assert topic_prefix == f"{namespace}."
    assert namespace.topic("orders.order.v1") == f"{namespace}.orders.order.v1"
    assert mongo_db_name("orders") == f"{namespace}_orders"


@pytest.mark.integration
async def test_session_infra_serves_kafka_and_mongo(
    infra: Infra,
    namespace: Namespace,
    create_topics: Callable[[Sequence[tuple[str, int]]], list[str]],
) -> None:
    from aiokafka.admin import AIOKafkaAdminClient
    from pymongo import AsyncMongoClient

    if not (os.environ.get("KONTOR_TEST_KAFKA_BOOTSTRAP") or os.environ.get("KONTOR_TEST_INFRA")):
        assert infra.kind in ("embedded", "testcontainers")
    assert infra.idempotent_producer is (infra.kind != "embedded")

    topic = namespace.topic(f"x{uuid.uuid4().hex[:4]}.v1")
    assert create_topics([(topic, 2)]) == [topic]
    assert create_topics([(topic, 2)]) == []
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
    await admin.start()
    try:
        assert topic in await admin.list_topics()
    finally:
        await admin.close()

    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(infra.mongo_url)
    try:
        db = client[namespace.mongo_db_name("catalog")]
        await db.products.insert_one({"_id": "sku-1"})
        assert await db.products.count_documents({}) == 1
    finally:
        await client.close()


def test_tests_are_marked_by_directory(request: pytest.FixtureRequest) -> None:
    from kontor_local.pytest_plugin import pytest_collection_modifyitems

    class FakeItem:
        def __init__(self, path: str) -> None:
            self.path = Path(path)
            self.markers: list[str] = []

        def get_closest_marker(self, name: str) -> object:
            return name if name in self.markers else None

        def add_marker(self, marker: pytest.MarkDecorator) -> None:
            self.markers.append(marker.name)

    items = [
        FakeItem("/r/services/orders/tests/unit/test_a.py"),
        FakeItem("/r/services/orders/tests/service/test_b.py"),
        FakeItem("/r/tests/integration/test_c.py"),
        FakeItem("/r/deploy/local/tests/test_d.py"),
    ]
    pytest_collection_modifyitems(request.config, items)  # type: ignore[arg-type]
    assert [i.markers for i in items] == [["unit"], ["service"], ["integration"], []]
