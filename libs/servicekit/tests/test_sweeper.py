"""The kit's sweeper: a step run every interval, surviving a failing round, stoppable."""

from __future__ import annotations

import asyncio
import contextlib

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


async def test_a_stop_whose_cancellation_a_step_swallowed_still_ends_the_sweeper() -> None:
    """Python 3.11's ``wait_for`` drops a cancellation that lands in the loop iteration in
    which its future completes (a database reply arriving as the service stops): the
    step returns normally and the old loop swept on for ever, holding the shutdown."""
    loop = asyncio.get_running_loop()
    replies: list[asyncio.Future[None]] = []
    waiting = asyncio.Event()

    async def step() -> None:
        reply: asyncio.Future[None] = loop.create_future()
        replies.append(reply)
        waiting.set()
        await asyncio.wait_for(reply, timeout=30)

    sweeper = Sweeper("test", step, interval_s=0.01)
    sweeper.start()
    await waiting.wait()
    replies[-1].set_result(None)  # the reply is ready in the iteration of the cancel
    await asyncio.wait_for(sweeper.stop(), timeout=2)
    assert len(replies) == 1  # no round after the stop


async def test_a_step_that_will_not_be_cancelled_holds_the_stop_only_for_its_bound(
    caplog: pytest.LogCaptureFixture,
) -> None:
    let_go = asyncio.Event()

    async def step() -> None:
        while not let_go.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await let_go.wait()  # a library that retries whatever happens

    sweeper = Sweeper("stubborn", step, interval_s=0.01, stop_timeout_s=0.3)
    sweeper.start()
    await asyncio.sleep(0.01)
    left = [task for task in asyncio.all_tasks() if task.get_name() == "stubborn"]
    began = asyncio.get_running_loop().time()
    await sweeper.stop()
    assert asyncio.get_running_loop().time() - began < 1.0
    assert "sweeper stubborn did not stop" in caplog.text
    let_go.set()  # the test's own loop ends clean
    await asyncio.wait(left, timeout=2)
