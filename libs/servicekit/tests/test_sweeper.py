"""The kit's sweeper: a step run every interval, surviving a failing round, stoppable."""

from __future__ import annotations

import asyncio

import pytest
from kontor_servicekit.sweeper import Sweeper

pytestmark = pytest.mark.unit


async def test_a_sweeper_runs_its_step_each_round_and_survives_a_failure() -> None:
    calls: list[int] = []

    async def step() -> None:
        calls.append(len(calls))
        if len(calls) == 2:
            raise RuntimeError("database gone for a moment")

    sweeper = Sweeper("test", step, interval_s=0.01)
    sweeper.start()
    sweeper.start()  # a second start does not start a second task
    for _ in range(200):
        if len(calls) >= 4:
            break
        await asyncio.sleep(0.01)
    await sweeper.stop()
    assert len(calls) >= 4  # went on after the failing second round
    stopped_at = len(calls)
    await asyncio.sleep(0.05)
    assert len(calls) == stopped_at
    await sweeper.stop()  # stopping twice is harmless


def test_the_interval_must_be_positive() -> None:
    async def step() -> None:
        return None

    with pytest.raises(ValueError):
        Sweeper("test", step, interval_s=0)
