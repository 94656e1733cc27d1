"""The fake unit of work behaves like a transaction: copies, rollback, inbox, sequences."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from kontor_contracts.events.orders import OrderCancelled
from kontor_servicekit.aggregate import RecordsEvents
from kontor_servicekit.domain_errors import Conflict
from kontor_servicekit.fakes import FakeDatabase, FakeTransactor, FakeUnitOfWork, envelope_of

pytestmark = pytest.mark.unit


@dataclass
class Counter(RecordsEvents):
    id: str
    value: int = 0

    def bump(self) -> None:
        self.value += 1
        self.record(("bumped", self.value))


class CounterUnitOfWork(FakeUnitOfWork):
    def __init__(self, db: FakeDatabase) -> None:
        super().__init__(db)
        self.counters = self.table("counters", key=lambda c: c.id)


def cancelled(order_id: str) -> OrderCancelled:
    return OrderCancelled(
        order_id=order_id, order_number=None, reason="r", cancelled_by="merchant", lines=[]
    )


async def test_a_committed_unit_keeps_its_rows_and_its_events() -> None:
    transactor = FakeTransactor(CounterUnitOfWork)

    async def work(uow: CounterUnitOfWork) -> int:
        uow.counters.insert(Counter("c"))
        uow.emit(cancelled("o-1"), aggregate_id="o-1")
        return await uow.next_sequence("n")

    assert await transactor.run(work) == 1
    assert transactor.db.rows("counters") == [Counter("c")]
    assert transactor.db.event_types() == ["OrderCancelled"]
    assert transactor.db.commits == 1


async def test_a_unit_that_raises_leaves_nothing_behind() -> None:
    transactor = FakeTransactor(CounterUnitOfWork)
    await transactor.run(lambda uow: _insert(uow, Counter("c")))

    async def failing(uow: CounterUnitOfWork) -> None:
        counter = uow.counters.get("c")
        assert counter is not None
        counter.bump()
        uow.counters.put(counter)
        uow.emit(cancelled("o-1"), aggregate_id="o-1")
        await uow.next_sequence("n")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await transactor.run(failing)
    assert transactor.db.rows("counters") == [Counter("c", 0)]
    assert transactor.db.outbox == []
    assert transactor.db.sequences == {}


async def test_rows_are_copies_and_unpulled_events_are_not_stored() -> None:
    transactor = FakeTransactor(CounterUnitOfWork)

    async def work(uow: CounterUnitOfWork) -> Counter:
        counter = Counter("c")
        counter.bump()
        uow.counters.insert(counter)
        counter.value = 99  # not saved: the stored row must not change
        return counter

    await transactor.run(work)
    stored = transactor.db.rows("counters")[0]
    assert stored.value == 1
    assert stored.recorded_events == ()


async def test_inserting_an_existing_key_is_a_conflict() -> None:
    transactor = FakeTransactor(CounterUnitOfWork)
    await transactor.run(lambda uow: _insert(uow, Counter("c")))
    with pytest.raises(Conflict):
        await transactor.run(lambda uow: _insert(uow, Counter("c")))


async def test_a_redelivered_event_is_handled_once() -> None:
    transactor = FakeTransactor(CounterUnitOfWork)
    seen: list[str] = []

    async def handler(event: OrderCancelled, uow: CounterUnitOfWork, env: object) -> None:
        seen.append(event.order_id)

    envelope = envelope_of(cancelled("o-1"))
    assert await transactor.deliver(handler, cancelled("o-1"), envelope) is True
    assert await transactor.deliver(handler, cancelled("o-1"), envelope) is False
    assert seen == ["o-1"]


async def test_sequences_are_gap_free_across_units() -> None:
    transactor = FakeTransactor(CounterUnitOfWork)
    numbers = [await transactor.run(lambda uow: uow.next_sequence("inv")) for _ in range(3)]
    assert numbers == [1, 2, 3]


def test_aggregates_hand_out_their_events_once_in_order() -> None:
    counter = Counter("c")
    counter.bump()
    counter.bump()
    assert counter.pull_events() == [("bumped", 1), ("bumped", 2)]
    assert counter.pull_events() == []
    assert counter == Counter("c", 2)  # the recorded events take no part in equality


async def _insert(uow: CounterUnitOfWork, counter: Counter) -> None:
    uow.counters.insert(counter)
