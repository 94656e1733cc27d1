"""Migrations against the real database: once each, in order, one runner among replicas."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from kontor_servicekit import testing
from kontor_servicekit.clock import utc_now
from kontor_servicekit.migrations import (
    MIGRATIONS,
    Migration,
    MigrationFailed,
    MigrationRunner,
    run_migrations,
)
from kontor_servicekit.service import Kit, ServiceDefinition, create_service_app
from kontor_servicekit.settings import ServiceSettings
from kontor_servicekit.store import Store, create_client

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(infra: Any, namespace: str) -> AsyncIterator[Store]:
    client = create_client(infra.mongo_url, app_name="kontor-servicekit-tests")
    store = Store(client, f"{namespace}_kit", producer="orders")
    try:
        yield store
    finally:
        await client.drop_database(store.db.name)
        await client.close()


class Journal:
    """Migration steps that record when they ran."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def step(self, name: str, *, delay: float = 0.0, fail: bool = False) -> Migration:
        async def run(store: Store) -> None:
            self.calls.append(name)
            await store.db["things"].insert_one({"migration": name})
            await asyncio.sleep(delay)
            if fail:
                raise ValueError(f"{name} cannot convert document 42")

        return Migration(name, run)


async def test_migrations_run_in_order_once_each_and_are_recorded(store: Store) -> None:
    journal = Journal()
    first = [journal.step("0001-a"), journal.step("0002-b")]
    assert await run_migrations(store, first) == ["0001-a", "0002-b"]
    assert await run_migrations(store, first) == []  # a restart runs nothing again
    later = [*first, journal.step("0003-c")]
    assert await run_migrations(store, later) == ["0003-c"]  # only the new one
    assert journal.calls == ["0001-a", "0002-b", "0003-c"]

    records = await store.db[MIGRATIONS].find({}).sort("started_at", 1).to_list(None)
    assert [(r["_id"], r["status"]) for r in records] == [
        ("0001-a", "done"),
        ("0002-b", "done"),
        ("0003-c", "done"),
    ]
    assert all(r["finished_at"] >= r["started_at"] for r in records)


async def test_replicas_starting_together_run_each_migration_once(store: Store) -> None:
    journal = Journal()
    migrations = [journal.step("0001-slow", delay=0.5), journal.step("0002-after")]
    runners = [MigrationRunner(store, poll_s=0.05) for _ in range(3)]

    results = await asyncio.gather(*(r.run(migrations) for r in runners))

    assert journal.calls == ["0001-slow", "0002-after"]
    assert sorted(name for ran in results for name in ran) == ["0001-slow", "0002-after"]
    assert await store.db["things"].count_documents({}) == 2
    # every replica returned only after both were done: none starts on old data
    assert await store.db[MIGRATIONS].count_documents({"status": "done"}) == 2


async def test_a_failing_migration_stops_the_run_and_is_tried_again_next_time(
    store: Store,
) -> None:
    journal = Journal()
    broken = [journal.step("0001-ok"), journal.step("0002-bad", fail=True), journal.step("0003")]
    with pytest.raises(MigrationFailed, match="'0002-bad' failed: ValueError: 0002-bad cannot"):
        await run_migrations(store, broken)
    assert journal.calls == ["0001-ok", "0002-bad"]  # the later one did not run
    record = await store.db[MIGRATIONS].find_one({"_id": "0002-bad"})
    assert record is not None
    assert record["status"] == "failed"
    assert record["error"] == "ValueError: 0002-bad cannot convert document 42"
    assert await store.db[MIGRATIONS].find_one({"_id": "0003"}) is None

    fixed = [broken[0], journal.step("0002-bad"), broken[2]]
    assert await run_migrations(store, fixed) == ["0002-bad", "0003"]
    assert journal.calls == ["0001-ok", "0002-bad", "0002-bad", "0003"]


async def test_the_claim_of_a_replica_that_died_halfway_expires_and_is_taken_over(
    store: Store,
) -> None:
    now = utc_now()
    await store.db[MIGRATIONS].insert_one(
        {
            "_id": "0001-a",
            "status": "running",
            "owner": "dead",
            "started_at": now - timedelta(minutes=5),
            "until": now - timedelta(seconds=1),
        }
    )
    await store.db[MIGRATIONS].insert_one(
        {
            "_id": "0002-b",
            "status": "running",
            "owner": "alive",
            "started_at": now,
            "until": now + timedelta(minutes=5),
        }
    )
    journal = Journal()
    runner = MigrationRunner(store, poll_s=0.05)
    waiting = asyncio.create_task(runner.run([journal.step("0001-a"), journal.step("0002-b")]))
    await testing.eventually(lambda: _status_is(store, "0001-a", "done"), timeout=10)
    await asyncio.sleep(0.3)
    assert journal.calls == ["0001-a"]  # 0002-b is held by a live replica: it waits
    assert not waiting.done()
    await store.db[MIGRATIONS].update_one({"_id": "0002-b"}, {"$set": {"status": "done"}})
    assert await asyncio.wait_for(waiting, timeout=10) == ["0001-a"]
    assert journal.calls == ["0001-a"]


async def test_migration_names_must_be_unique(store: Store) -> None:
    journal = Journal()
    with pytest.raises(ValueError, match="unique"):
        await run_migrations(store, [journal.step("x"), journal.step("x")])
    assert journal.calls == []


async def _status_is(store: Store, name: str, status: str) -> bool:
    record = await store.db[MIGRATIONS].find_one({"_id": name})
    return record is not None and record["status"] == status


# --------------------------------------------------------------------------- in the service


def _definition(settings: ServiceSettings, migrations: list[Migration]) -> ServiceDefinition:
    return ServiceDefinition(
        settings=settings, title="kit only", description="d", migrations=migrations
    )


async def test_the_service_runs_migrations_before_the_relay_and_the_consumers(
    kit_settings: ServiceSettings,
) -> None:
    seen: dict[str, Any] = {}
    kits: list[Kit] = []

    async def look(store: Store) -> None:
        kit = kits[0]
        seen["indexes"] = await store.db["outbox"].index_information()
        seen["producer_started"] = kit.producers.started
        seen["relay_running"] = kit.relay._task is not None

    app = create_service_app(_definition(kit_settings, [Migration("0001-look", look)]))
    kits.append(app.state.kit)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
        assert kits[0].producers.started
        record = await kits[0].store.db[MIGRATIONS].find_one({"_id": "0001-look"})
        assert record is not None and record["status"] == "done"
        await kits[0].store.client.drop_database(kits[0].store.db.name)
    assert "pending_in_order" in seen["indexes"]  # the indexes came first
    assert seen["producer_started"] is False
    assert seen["relay_running"] is False


async def test_a_failing_migration_stops_the_service_from_starting(
    infra: Any, kit_settings: ServiceSettings
) -> None:
    async def broken(store: Store) -> None:
        raise KeyError("price")

    app = create_service_app(_definition(kit_settings, [Migration("0001-broken", broken)]))
    kit: Kit = app.state.kit
    with pytest.raises(MigrationFailed, match="'0001-broken' failed: KeyError"):
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
            pytest.fail("the service must not start")
    assert kit.producers.started is False
    assert kit.relay._task is None
    client = create_client(infra.mongo_url, app_name="kontor-servicekit-tests")
    try:
        record = await client[kit.store.db.name][MIGRATIONS].find_one({"_id": "0001-broken"})
        assert record is not None and record["status"] == "failed"
        await client.drop_database(kit.store.db.name)
    finally:
        await client.close()
