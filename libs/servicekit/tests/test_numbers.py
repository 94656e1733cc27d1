"""Numbers from per-process blocks: unique and increasing, gaps allowed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from kontor_servicekit.numbers import NumberBlocks
from kontor_servicekit.store import Store, create_client

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(infra: Any, namespace: str) -> AsyncIterator[Store]:
    client = create_client(infra.mongo_url, app_name="test-numbers")
    try:
        yield Store(client, f"{namespace}_numbers", producer="orders")
    finally:
        await client.drop_database(f"{namespace}_numbers")
        await client.close()


async def test_two_processes_never_hand_out_the_same_number(store: Store) -> None:
    first, second = NumberBlocks(store, block_size=7), NumberBlocks(store, block_size=7)
    taken = await asyncio.gather(
        *(allocator.next("order-number:2026") for _ in range(40) for allocator in (first, second))
    )
    assert len(set(taken)) == 80
    assert min(taken) == 1
    # one process's numbers increase
    mine = [await first.next("order-number:2026") for _ in range(10)]
    assert mine == sorted(mine)


async def test_a_restarted_process_continues_after_the_last_reserved_block(store: Store) -> None:
    before = NumberBlocks(store, block_size=10)
    assert [await before.next("k") for _ in range(3)] == [1, 2, 3]
    after = NumberBlocks(store, block_size=10)  # the old process's 4..10 are a gap now
    assert await after.next("k") == 11
    assert await NumberBlocks(store).next("other") == 1


def test_block_size_must_be_positive(store: Store) -> None:
    with pytest.raises(ValueError, match="positive"):
        NumberBlocks(store, block_size=0)


async def test_raising_the_floor_continues_after_numbers_taken_elsewhere(store: Store) -> None:
    allocator = NumberBlocks(store, block_size=10)
    assert await allocator.next("order-number:2026") == 1
    await allocator.raise_floor("order-number:2026", 41)  # an older version used 1..41
    assert await allocator.next("order-number:2026") == 42
    await allocator.raise_floor("order-number:2026", 5)  # never lowers
    assert await NumberBlocks(store).next("order-number:2026") > 42
