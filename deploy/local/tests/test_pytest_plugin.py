"""The test provisioning plugin: detection, the session infra and namespaces."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from kontor_local.pytest_plugin import Infra, Namespace, choose_kind, docker_available

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.unit
def test_docker_detection_answers_quickly_and_is_false_without_an_engine() -> None:
    started = time.monotonic()
    found = docker_available()
    assert time.monotonic() - started <= 3.0
    engine_configured = bool(os.environ.get("DOCKER_HOST")) or Path("/var/run/docker.sock").exists()
    if not engine_configured:
        assert found is False


@pytest.mark.unit
def test_env_addresses_win_and_can_be_forced() -> None:
    env = {"KONTOR_TEST_KAFKA_BOOTSTRAP": "k:9092", "KONTOR_TEST_MONGO_URL": "mongodb://m"}
    assert choose_kind(env) == "env"
    assert choose_kind({**env, "KONTOR_TEST_INFRA": "embedded"}) == "embedded"
    with pytest.raises(pytest.UsageError):
        choose_kind({"KONTOR_TEST_INFRA": "podman"})


@pytest.mark.unit
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


@pytest.mark.unit
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


TIERED_INI = """[pytest]
addopts = --import-mode=importlib -p no:cacheprovider --strict-markers
markers =
    unit: u
    service: s
    integration: i
"""


def _run_pytest(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    ini = ["-c", str(root / "pytest.ini"), "--rootdir", str(root)]
    return subprocess.run(
        [sys.executable, "-m", "pytest", *ini, *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.unit
def test_a_test_without_exactly_one_tier_fails_the_collection_even_under_m(
    tmp_path: Path,
) -> None:
    (tmp_path / "pytest.ini").write_text(TIERED_INI)
    (tmp_path / "conftest.py").write_text((REPO / "conftest.py").read_text())
    (tmp_path / "tests" / "unit").mkdir(parents=True)
    (tmp_path / "tests" / "unit" / "test_by_directory.py").write_text("def test_ok(): pass\n")
    good = _run_pytest(tmp_path, "-m", "unit", "-q")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "1 passed" in good.stdout

    (tmp_path / "test_bad.py").write_text(
        "import pytest\n"
        "def test_untiered(): pass\n"
        "@pytest.mark.unit\n@pytest.mark.integration\ndef test_two_tiers(): pass\n"
        "@pytest.mark.unit\ndef test_unit_with_infra(infra): pass\n"
    )
    bad = _run_pytest(tmp_path, "-m", "unit", "-q")
    assert bad.returncode == pytest.ExitCode.USAGE_ERROR, bad.stdout + bad.stderr
    assert (
        "test_bad.py::test_untiered: needs exactly one of unit, service, integration, "
        "security, browser (none)" in (bad.stderr)
    )
    assert "test_bad.py::test_two_tiers: needs exactly one of" in bad.stderr
    assert "(unit, integration)" in bad.stderr
    assert "test_bad.py::test_unit_with_infra: a unit test must not use" in bad.stderr
