"""Consumer groups start together and in the background; readiness does not wait for them.

aiokafka's ``start()`` waits for the group join and FastStream starts subscribers one
after the other, so a service with four groups used to answer HTTP only after four
joins. Now the joins overlap, the lifespan does not wait for them, ``/health/ready``
lists ``consumers: joining`` meanwhile, and a failed start fails liveness and readiness.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.orders import OrderCancelled, OrderPlaced
from kontor_servicekit.consumer import ConsumerRuntime, Subscription
from kontor_servicekit.service import Kit, ServiceDefinition, create_service_app


@dataclass
class FakeSubscriber:
    release: asyncio.Event
    fail_with: Exception | None = None
    log: list[str] = field(default_factory=list)

    async def start(self) -> None:
        self.log.append("start")
        await self.release.wait()
        if self.fail_with is not None:
            raise self.fail_with
        self.log.append("joined")


@dataclass
class FakeBroker:
    subscribers: list[FakeSubscriber]
    publishers: list[Any] = field(default_factory=list)
    running: bool = False
    connected: bool = False

    async def connect(self) -> None:
        self.connected = True


def runtime_with(*subscribers: FakeSubscriber) -> tuple[ConsumerRuntime, FakeBroker]:
    runtime = ConsumerRuntime(service="orders", store=None, producer=None, metrics=None)  # type: ignore[arg-type]
    runtime.subscribers = list(subscribers)
    return runtime, FakeBroker(list(subscribers))


@pytest.mark.unit
async def test_every_group_starts_at_once_and_the_state_follows_the_joins() -> None:
    release = asyncio.Event()
    subs = [FakeSubscriber(release) for _ in range(4)]
    runtime, broker = runtime_with(*subs)
    assert runtime.status() == "not started"
    runtime.start_in_background(broker)  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    assert [s.log for s in subs] == [["start"]] * 4  # all four wait for their joins at once
    assert runtime.status() == "joining"
    release.set()
    await runtime.wait_started(timeout=1)
    assert runtime.status() == "ok"
    assert broker.connected and broker.running


@pytest.mark.unit
async def test_a_failed_join_is_reported_and_a_stop_cancels_a_pending_one() -> None:
    release = asyncio.Event()
    runtime, broker = runtime_with(
        FakeSubscriber(release), FakeSubscriber(release, fail_with=RuntimeError("no coordinator"))
    )
    runtime.start_in_background(broker)  # type: ignore[arg-type]
    release.set()
    with pytest.raises(RuntimeError, match="no coordinator"):
        await runtime.wait_started(timeout=1)
    assert runtime.status() == "failed: RuntimeError: no coordinator"
    assert broker.running is False

    pending, broker = runtime_with(FakeSubscriber(asyncio.Event()))
    pending.start_in_background(broker)  # type: ignore[arg-type]
    await pending.stop_starting()
    assert pending.starting is None

    nothing, _ = runtime_with()
    assert nothing.status() == "ok"  # a service without subscriptions has nothing to join


async def handle(event: Any, uow: Any, envelope: Envelope) -> None:
    return None


@pytest.mark.integration
async def test_the_service_answers_before_its_groups_have_joined(kit_settings_for: Any) -> None:
    settings = kit_settings_for("billing").model_copy(
        update={"kafka_session_timeout_ms": 6000, "kafka_heartbeat_interval_ms": 2000}
    )
    definition = ServiceDefinition(
        settings=settings,
        title="t",
        description="d",
        subscriptions=[
            Subscription(purpose="first", handlers={OrderPlaced: handle}),
            Subscription(purpose="second", handlers={OrderCancelled: handle}),
            Subscription(purpose="third", handlers={OrderPlaced: handle}),
        ],
        ensure_topics=True,
    )
    app = create_service_app(definition)
    kit: Kit = app.state.kit
    began = time.monotonic()
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
        started_in = time.monotonic() - began
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            ready = await client.get("/health/ready")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"] == {"mongo": "ok", "kafka": "ok", "consumers": "joining"}
            await kit.consumers.wait_started(timeout=60)
            joined_in = time.monotonic() - began
            ready = await client.get("/health/ready")
            assert ready.json()["checks"] == {"mongo": "ok", "kafka": "ok"}
            assert (await client.get("/health/live")).json() == {"status": "ok"}
        assert all(s.consumer.assignment() for s in kit.consumers.subscribers)
    print(f"\nlifespan {started_in:.2f} s, three groups joined {joined_in:.2f} s")
    # Tansu: a join takes about half the session timeout (3 s here); one after the
    # other, three joins would take 9 s.
    assert started_in < joined_in
    assert joined_in < 7.5, f"the groups joined one after the other? {joined_in:.1f} s"
