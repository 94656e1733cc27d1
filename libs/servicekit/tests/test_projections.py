"""upsert_if_newer (and upsert_many_if_newer) against the real database: the newest
event wins, to the microsecond.

Needs the session's MongoDB-protocol server (``infra``); each test has its own database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kontor_servicekit.clock import micros
from kontor_servicekit.projections import upsert_if_newer, upsert_many_if_newer
from kontor_servicekit.service_testing import temporary_store
from kontor_servicekit.store import Store, Transaction
from pymongo.asynchronous.collection import AsyncCollection

pytestmark = pytest.mark.integration

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


class Boom(Exception):
    pass


@pytest.fixture
async def store(infra: Any, namespace: str) -> AsyncIterator[Store]:
    async with temporary_store(
        infra.mongo_url, f"{namespace}_projections", producer="orders"
    ) as store:
        yield store


def things(store: Store) -> AsyncCollection[dict[str, Any]]:
    return store.db["things"]


async def apply(
    store: Store, key: str, doc: dict[str, Any], at: datetime, *, replace: bool = False
) -> bool:
    async def work(tx: Transaction) -> bool:
        return await upsert_if_newer(
            tx.db["things"], key, doc, occurred_at=at, session=tx.session, replace=replace
        )

    return await store.transaction(work)


async def test_first_event_inserts_with_its_time(store: Store) -> None:
    assert await apply(store, "A", {"price": "10.00"}, T0) is True
    doc = await things(store).find_one({"_id": "A"})
    assert doc == {"_id": "A", "price": "10.00", "as_of_us": micros(T0), "as_of": T0}


async def test_newer_event_merges_and_older_one_changes_nothing(store: Store) -> None:
    await apply(store, "A", {"price": "10.00", "name": "Tee"}, T0)
    assert await apply(store, "A", {"price": "12.00"}, T0 + timedelta(days=2)) is True
    assert (
        await apply(store, "A", {"price": "11.00", "name": "Old"}, T0 + timedelta(days=1)) is False
    )
    doc = await things(store).find_one({"_id": "A"})
    assert doc is not None
    assert (doc["price"], doc["name"]) == ("12.00", "Tee")  # merged, untouched field kept
    assert doc["as_of"] == T0 + timedelta(days=2)


async def test_microseconds_order_two_events_of_one_millisecond(store: Store) -> None:
    second = T0 + timedelta(days=1)
    newer, older = second + timedelta(microseconds=900), second + timedelta(microseconds=500)
    assert await apply(store, "A", {"price": "15.00"}, newer) is True
    assert await apply(store, "A", {"price": "16.80"}, older) is False
    doc = await things(store).find_one({"_id": "A"})
    assert doc is not None
    assert (doc["price"], doc["as_of_us"]) == ("15.00", micros(newer))


async def test_replace_drops_fields_the_newer_state_no_longer_has(store: Store) -> None:
    await apply(store, "m", {"name": "DHL", "free_from": "50.00"}, T0, replace=True)
    assert await apply(store, "m", {"name": "DHL Paket"}, T0 + timedelta(hours=1), replace=True)
    assert await apply(store, "m", {"name": "stale"}, T0, replace=True) is False
    doc = await things(store).find_one({"_id": "m"})
    assert doc == {
        "_id": "m",
        "name": "DHL Paket",
        "as_of_us": micros(T0 + timedelta(hours=1)),
        "as_of": T0 + timedelta(hours=1),
    }


async def test_a_tie_and_a_document_without_version_are_applied(store: Store) -> None:
    await apply(store, "A", {"price": "10.00"}, T0)
    assert await apply(store, "A", {"price": "10.50"}, T0) is True  # same moment: applied again
    await things(store).insert_one({"_id": "legacy", "price": "1.00"})
    assert await apply(store, "legacy", {"price": "2.00"}, T0 - timedelta(days=365)) is True
    prices = {d["_id"]: d["price"] for d in await things(store).find({}).to_list(None)}
    assert prices == {"A": "10.50", "legacy": "2.00"}


async def test_the_write_is_part_of_the_callers_transaction(store: Store) -> None:
    await apply(store, "A", {"price": "10.00"}, T0)

    async def work(tx: Transaction) -> None:
        applied = await upsert_if_newer(
            tx.db["things"],
            "A",
            {"price": "99.00"},
            occurred_at=T0 + timedelta(1),
            session=tx.session,
        )
        assert applied
        raise Boom

    with pytest.raises(Boom):
        await store.transaction(work)
    doc = await things(store).find_one({"_id": "A"})
    assert doc is not None
    assert (doc["price"], doc["as_of"]) == ("10.00", T0)


async def test_without_a_session_it_writes_directly(store: Store) -> None:
    collection = things(store)
    assert await upsert_if_newer(collection, 7, {"n": 1}, occurred_at=T0, session=None)
    assert not await upsert_if_newer(
        collection, 7, {"n": 0}, occurred_at=T0 - timedelta(1), session=None
    )
    assert await collection.find_one({"_id": 7}, {"_id": 0, "n": 1}) == {"n": 1}


async def test_many_keys_in_one_write_each_keeping_a_newer_state(store: Store) -> None:
    """One event with the same facts of many documents (a coupon pool's batch of codes):
    new keys are inserted, older ones merged, a newer one left alone."""
    await apply(store, "B", {"state": "newer"}, T0 + timedelta(hours=1))
    await apply(store, "C", {"state": "older", "name": "kept"}, T0 - timedelta(hours=1))

    async def work(tx: Transaction) -> int:
        return await upsert_many_if_newer(
            tx.db["things"], ["A", "B", "C"], {"state": "batch"}, occurred_at=T0, session=tx.session
        )

    assert await store.transaction(work) == 2
    docs = {d["_id"]: d async for d in things(store).find({})}
    assert {k: d["state"] for k, d in docs.items()} == {"A": "batch", "B": "newer", "C": "batch"}
    assert docs["C"]["name"] == "kept" and docs["A"]["as_of_us"] == micros(T0)
