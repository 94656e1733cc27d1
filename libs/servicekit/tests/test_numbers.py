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


async def test_a_clean_stop_hands_the_rest_back_so_a_restart_continues_without_a_gap(
    store: Store,
) -> None:
    before = NumberBlocks(store, block_size=50)
    assert [await before.next("order-number:2026") for _ in range(13)] == list(range(1, 14))
    await before.release()  # the service stops cleanly
    after = NumberBlocks(store, block_size=50)
    assert await after.next("order-number:2026") == 14


async def test_the_rest_stays_a_gap_when_another_process_reserved_after_it(store: Store) -> None:
    first, second = NumberBlocks(store, block_size=10), NumberBlocks(store, block_size=10)
    assert await first.next("k") == 1  # 1..10
    assert await second.next("k") == 11  # 11..20, still in use
    await first.release()  # lowering the counter would hand out 11..20 twice
    assert await NumberBlocks(store, block_size=10).next("k") == 21
    assert await second.next("k") == 12


async def test_releasing_concurrently_with_other_processes_never_duplicates(
    store: Store,
) -> None:
    allocators = [NumberBlocks(store, block_size=3) for _ in range(4)]
    taken: list[int] = []

    async def work(allocator: NumberBlocks) -> None:
        for round_ in range(12):
            taken.append(await allocator.next("k"))
            if round_ % 4 == 3:
                await allocator.release()  # stop and start again, interleaved with others

    await asyncio.gather(*(work(a) for a in allocators))
    assert len(taken) == len(set(taken)) == 48


async def test_a_used_up_or_released_block_is_not_handed_back_twice(store: Store) -> None:
    allocator = NumberBlocks(store, block_size=2)
    assert [await allocator.next("k") for _ in range(2)] == [1, 2]  # block used up
    await allocator.release()
    assert await allocator.next("k") == 3  # a fresh block 3..4
    await allocator.release()
    await allocator.release()  # nothing held: changes nothing
    assert await NumberBlocks(store, block_size=2).next("k") == 4
