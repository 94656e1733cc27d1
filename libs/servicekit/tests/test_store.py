"""Store.transaction against the real database: all or nothing, gap-free sequences, inbox.

Needs the session's MongoDB-protocol server (``infra``); each test has its own database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from bson import ObjectId
from kontor_contracts.envelope import Envelope
from kontor_contracts.samples import order_placed_envelope
from kontor_servicekit.metrics import ServiceMetrics
from kontor_servicekit.store import (
    INBOX,
    OUTBOX,
    SEQUENCES,
    AlreadyHandled,
    Store,
    Transaction,
    create_client,
)
from pymongo.errors import OperationFailure

pytestmark = pytest.mark.integration


class Boom(Exception):
    pass


@pytest.fixture
async def store(infra: Any, namespace: str) -> AsyncIterator[Store]:
    client = create_client(infra.mongo_url, app_name="kontor-servicekit-tests")
    store = Store(client, f"{namespace}_kit", producer="orders")
    await store.ensure_indexes()
    try:
        yield store
    finally:
        await client.drop_database(store.db.name)
        await client.close()


def _order_placed() -> tuple[Any, str]:
    envelope = order_placed_envelope()
    return envelope.payload_model(), envelope.aggregate_id


async def test_failing_work_leaves_no_document_outbox_row_or_used_number(store: Store) -> None:
    event, order_id = _order_placed()

    async def work(tx: Transaction) -> None:
        number = await tx.next_sequence("invoice:2026")
        await tx.db["things"].insert_one({"_id": order_id, "number": number}, session=tx.session)
        tx.emit(event, aggregate_id=order_id)
        raise Boom

    with pytest.raises(Boom):
        await store.transaction(work)

    assert await store.db["things"].count_documents({}) == 0
    assert await store.db[OUTBOX].count_documents({}) == 0
    assert await store.db[SEQUENCES].find_one({"_id": "invoice:2026"}) is None

    async def succeed(tx: Transaction) -> int:
        return await tx.next_sequence("invoice:2026")

    assert await store.transaction(succeed) == 1  # the failed attempt used up no number


async def test_failing_consumer_work_does_not_record_the_inbox_key(store: Store) -> None:
    async def fail(tx: Transaction) -> None:
        raise Boom

    with pytest.raises(Boom):
        await store.transaction(fail, inbox_key="group:event-1")
    assert await store.db[INBOX].count_documents({}) == 0

    async def succeed(tx: Transaction) -> str:
        return "done"

    # the event can be handled after the failure: the inbox did not swallow it
    assert await store.transaction(succeed, inbox_key="group:event-1") == "done"


async def test_next_sequence_is_gap_free_and_unique_under_concurrency(store: Store) -> None:
    async def take(tx: Transaction) -> int:
        number = await tx.next_sequence("invoice:2026")
        await tx.db["invoices"].insert_one({"number": number}, session=tx.session)
        return number

    async def take_and_fail(tx: Transaction) -> int:
        await tx.next_sequence("invoice:2026")
        raise Boom

    results = await asyncio.gather(
        *(store.transaction(take) for _ in range(20)),
        *(store.transaction(take_and_fail) for _ in range(5)),
        return_exceptions=True,
    )
    numbers, failures = results[:20], results[20:]
    assert all(isinstance(f, Boom) for f in failures), failures
    assert sorted(numbers) == list(range(1, 21))  # type: ignore[type-var]
    stored = sorted(d["number"] for d in await store.db["invoices"].find({}).to_list(None))
    assert stored == list(range(1, 21))
    assert (await store.db[SEQUENCES].find_one({"_id": "invoice:2026"}) or {})["value"] == 20


async def test_sequences_are_independent_per_key(store: Store) -> None:
    async def take(tx: Transaction) -> tuple[int, int, int]:
        return (
            await tx.next_sequence("invoice:2026"),
            await tx.next_sequence("invoice:2027"),
            await tx.next_sequence("invoice:2026"),
        )

    assert await store.transaction(take) == (1, 1, 2)


async def test_same_inbox_key_twice_has_one_effect(store: Store) -> None:
    calls = 0

    async def work(tx: Transaction) -> None:
        nonlocal calls
        calls += 1
        await tx.db["effects"].update_one(
            {"_id": "counter"}, {"$inc": {"n": 1}}, upsert=True, session=tx.session
        )
        tx.emit(_order_placed()[0], aggregate_id="o-1")

    await store.transaction(work, inbox_key="billing.invoicing:e-1")
    with pytest.raises(AlreadyHandled):
        await store.transaction(work, inbox_key="billing.invoicing:e-1")

    assert calls == 1
    assert await store.db["effects"].find_one({"_id": "counter"}) == {"_id": "counter", "n": 1}
    assert await store.db[OUTBOX].count_documents({}) == 1
    [entry] = await store.db[INBOX].find({}).to_list(None)
    assert entry["_id"] == "billing.invoicing:e-1"
    assert entry["handled_at"].tzinfo is not None


async def test_outbox_rows_are_written_in_the_transaction_and_seen_only_after_commit(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, first_id = _order_placed()
    second, second_id = _order_placed()
    seen_before_commit: list[int] = []
    commits: list[str] = []
    store.on_commit(lambda: commits.append("commit"))
    write_outbox = store._write_outbox

    async def write_then_look_from_outside(tx: Transaction) -> None:
        await write_outbox(tx)
        # written inside the open transaction, invisible to everyone else
        seen_before_commit.append(await store.db[OUTBOX].count_documents({}))
        seen_before_commit.append(await tx.db[OUTBOX].count_documents({}, session=tx.session))

    monkeypatch.setattr(store, "_write_outbox", write_then_look_from_outside)

    async def work(tx: Transaction) -> list[Envelope]:
        return [tx.emit(first, aggregate_id=first_id), tx.emit(second, aggregate_id=second_id)]

    envelopes = await store.transaction(work, correlation_id="corr-1", causation_id="cause-1")

    assert seen_before_commit == [0, 2]
    assert commits == ["commit"]
    rows = await store.db[OUTBOX].find({}).sort("seq", 1).to_list(None)
    assert [r["_id"] for r in rows] == [str(e.id) for e in envelopes]
    for row, envelope, aggregate in zip(rows, envelopes, (first_id, second_id), strict=True):
        assert row["topic"] == "orders.order.v1"
        assert row["key"] == aggregate
        assert row["type"] == "OrderPlaced"
        assert row["status"] == "pending"
        assert row["attempts"] == 0
        assert isinstance(row["seq"], ObjectId)
        parsed = Envelope.model_validate_json(row["value"])
        assert parsed == envelope
        assert (parsed.correlation_id, parsed.causation_id) == ("corr-1", "cause-1")
        assert parsed.producer == "orders"


async def test_commit_without_events_writes_no_outbox_and_wakes_nobody(store: Store) -> None:
    commits: list[str] = []
    store.on_commit(lambda: commits.append("commit"))

    async def work(tx: Transaction) -> None:
        await tx.db["things"].insert_one({"_id": 1}, session=tx.session)

    await store.transaction(work)
    assert await store.db["things"].count_documents({}) == 1
    assert await store.db[OUTBOX].count_documents({}) == 0
    assert commits == []


async def test_first_event_of_a_flow_starts_the_correlation(store: Store) -> None:
    first, order_id = _order_placed()

    async def work(tx: Transaction) -> list[Envelope]:
        return [tx.emit(first, aggregate_id=order_id), tx.emit(first, aggregate_id=order_id)]

    one, two = await store.transaction(work)
    assert one.correlation_id == str(one.id)
    assert two.correlation_id == str(one.id)  # later events of the same unit join it


async def test_a_write_conflict_between_transactions_is_counted_by_its_code(
    infra: Any, namespace: str
) -> None:
    """Operations see how often transactions collide (``kontor_db_command_failures_total``,
    code 112), e.g. billing replicas on the one invoice counter (make bench-replicas)."""
    metrics = ServiceMetrics("orders")
    client = create_client(
        infra.mongo_url, app_name="kontor-conflict-tests", event_listeners=[metrics.db_listener()]
    )
    counter = client[f"{namespace}_conflict"]["sequences"]
    try:
        await counter.insert_one({"_id": "invoice:2026", "value": 0})
        first, second = client.start_session(), client.start_session()
        async with first, second:
            await first.start_transaction()
            await second.start_transaction()
            await counter.update_one({"_id": "invoice:2026"}, {"$inc": {"value": 1}}, session=first)
            with pytest.raises(OperationFailure) as conflict:
                await counter.update_one(
                    {"_id": "invoice:2026"}, {"$inc": {"value": 1}}, session=second
                )
            assert conflict.value.code == 112
            await second.abort_transaction()
            await first.commit_transaction()
        text = (await metrics.render()).decode()
        assert 'kontor_db_command_failures_total{code="112",command="update"} 1.0' in text
    finally:
        await client.drop_database(f"{namespace}_conflict")
        await client.close()


async def test_a_late_counter_write_still_conflicts_with_a_commit_after_the_snapshot(
    infra: Any, namespace: str
) -> None:
    """Why late numbering alone does not let two writers of one range run side by side
    (ADR 0126, 0127; so it was not merged): a transaction's snapshot is taken at its
    first statement, and a write to the counter that another transaction committed after
    that conflicts (112), however late it comes; the kit then runs the whole work again."""
    client = create_client(infra.mongo_url, app_name="kontor-snapshot-tests")
    db = client[f"{namespace}_snapshot"]
    try:
        await db["sequences"].insert_one({"_id": "invoice:2026", "value": 0})
        async with client.start_session() as late, client.start_session() as other:
            await late.start_transaction()
            await db["orders"].find_one({"_id": "o-1"}, session=late)  # the work's first read
            await other.start_transaction()
            await db["sequences"].update_one(
                {"_id": "invoice:2026"}, {"$inc": {"value": 1}}, session=other
            )
            await other.commit_transaction()  # done before the late one reaches the counter
            with pytest.raises(OperationFailure) as conflict:
                await db["sequences"].update_one(
                    {"_id": "invoice:2026"}, {"$inc": {"value": 1}}, session=late
                )
            assert conflict.value.code == 112
            await late.abort_transaction()
    finally:
        await client.drop_database(f"{namespace}_snapshot")
        await client.close()


async def test_documents_replaced_later_are_written_once_at_the_end_or_not_at_all(
    store: Store,
) -> None:
    """ADR 0151: ``replace_later`` writes when the work is done, once per document, in
    the transaction; a read through the memo sees it at once, and aborted work writes
    nothing."""

    async def work(tx: Transaction) -> None:
        tx.replace_later("things", {"_id": "a", "v": 1})
        tx.replace_later("things", {"_id": "b", "v": 1})
        tx.replace_later("things", {"_id": "a", "v": 2})  # saved again: written once, as 2
        assert tx.recall("things", "a") == (True, {"_id": "a", "v": 2})
        assert await tx.db["things"].count_documents({}, session=tx.session) == 0  # not yet
        await tx.flush("things")  # what a query of the collection does first
        assert await tx.db["things"].count_documents({}, session=tx.session) == 2
        tx.replace_later("things", {"_id": "b", "v": 3})

    await store.transaction(work)
    docs = await store.db["things"].find({}).sort("_id", 1).to_list(None)
    assert docs == [{"_id": "a", "v": 2}, {"_id": "b", "v": 3}]

    async def aborted(tx: Transaction) -> None:
        tx.replace_later("things", {"_id": "c", "v": 1})
        await tx.flush()
        raise Boom

    with pytest.raises(Boom):
        await store.transaction(aborted)
    assert await store.db["things"].count_documents({"_id": "c"}) == 0
