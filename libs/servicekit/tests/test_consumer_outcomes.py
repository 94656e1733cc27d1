"""How the consumer treats what a handler raises, and what it hands the handler.

The store and the producer are stand-ins here (no database): the transaction runs
the handler once on a marker object, the dead-letter producer records what it is
sent. The real path is covered by the services' service and integration tests.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.orders import OrderCancelled
from kontor_servicekit.consumer import ConsumerRuntime, MessageHandler, Subscription
from kontor_servicekit.domain_errors import IllegalTransition, NotFound, Unavailable

pytestmark = pytest.mark.unit

TX = object()


class FakeCollection:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}

    async def update_one(self, flt: dict[str, Any], update: dict[str, Any], upsert: bool) -> None:
        self.docs[flt["_id"]] = update["$set"]


class StubStore:
    def __init__(self) -> None:
        self.collections: dict[str, FakeCollection] = {}
        self.transactions = 0

    @property
    def db(self) -> StubStore:
        return self

    def __getitem__(self, name: str) -> FakeCollection:
        return self.collections.setdefault(name, FakeCollection())

    async def transaction(self, work: Callable[[Any], Awaitable[Any]], **_: Any) -> Any:
        self.transactions += 1
        return await work(TX)


@dataclass
class Recorder:
    sent: list[tuple[str, dict[str, bytes]]] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)

    async def send_and_wait(self, topic: str, value: Any, key: Any, headers: Any) -> None:
        self.sent.append((topic, dict(headers)))

    def handled(self, group: str, event_type: str, outcome: str) -> None:
        self.outcomes.append(outcome)

    def dead_lettered(self, group: str, topic: str) -> None:
        self.outcomes.append("dead_lettered")


@dataclass(frozen=True)
class Record:
    value: bytes
    topic: str = "orders.order.v1"
    partition: int = 0
    offset: int = 7
    key: bytes | None = b"o-1"
    headers: tuple[tuple[str, bytes], ...] = ()


def message() -> bytes:
    event = OrderCancelled(
        order_id="o-1", order_number=None, reason="r", cancelled_by="merchant", lines=[]
    )
    return Envelope.wrap(event, producer="orders", aggregate_id="o-1").to_bytes()


def handler_for(
    fn: Callable[..., Awaitable[None]], unit_of_work: Callable[[Any], Any] | None = None
) -> tuple[MessageHandler, StubStore, Recorder]:
    store, recorder = StubStore(), Recorder()
    runtime = ConsumerRuntime(
        service="billing",
        store=store,  # type: ignore[arg-type]
        producer=recorder,
        metrics=recorder,
        max_attempts=3,
        retry_backoff_s=0,
    )
    subscription = Subscription(
        purpose="test", handlers={OrderCancelled: fn}, unit_of_work=unit_of_work
    )
    return MessageHandler(runtime, subscription), store, recorder


async def test_a_domain_error_is_dead_lettered_at_once_with_its_reason() -> None:
    async def refuse(event: Any, uow: Any, env: Envelope) -> None:
        raise IllegalTransition("order o-1", "ship", "cancelled")

    handler, store, recorder = handler_for(refuse)
    assert await handler.handle_record(message(), Record(message())) == "dead_lettered"
    assert store.transactions == 1  # no retries: the answer cannot change
    topic, headers = recorder.sent[0]
    assert topic == "billing.test.dlt"
    assert headers["kontor_dlt_error_type"] == b"IllegalTransition"
    assert b"cannot ship order o-1: it is cancelled" in headers["kontor_dlt_reason"]


async def test_not_found_is_dead_lettered_too() -> None:
    async def unknown(event: Any, uow: Any, env: Envelope) -> None:
        raise NotFound("order", "o-1")

    handler, _, recorder = handler_for(unknown)
    assert await handler.handle_record(message(), Record(message())) == "dead_lettered"
    assert recorder.sent[0][1]["kontor_dlt_error_type"] == b"NotFound"


async def test_unavailable_redelivers_without_dead_lettering() -> None:
    async def not_yet(event: Any, uow: Any, env: Envelope) -> None:
        raise Unavailable("the product is not known yet")

    handler, _, recorder = handler_for(not_yet)
    assert await handler.handle_record(message(), Record(message())) == "retry_later"
    assert recorder.sent == []


async def test_an_unexpected_error_is_retried_before_it_is_dead_lettered() -> None:
    async def buggy(event: Any, uow: Any, env: Envelope) -> None:
        raise KeyError("bug")

    handler, store, _ = handler_for(buggy)
    assert await handler.handle_record(message(), Record(message())) == "dead_lettered"
    assert store.transactions == 3


async def test_the_handler_gets_the_subscriptions_unit_of_work_on_the_transaction() -> None:
    got: list[Any] = []

    async def record(event: Any, uow: Any, env: Envelope) -> None:
        got.append(uow)

    handler, _, _ = handler_for(record, unit_of_work=lambda tx: ("uow", tx))
    assert await handler.handle_record(message(), Record(message())) == "handled"
    assert got == [("uow", TX)]

    bare, _, _ = handler_for(record)
    await bare.handle_record(message(), Record(message()))
    assert got[-1] is TX
