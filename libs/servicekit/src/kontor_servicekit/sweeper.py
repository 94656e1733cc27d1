"""A sweeper: one step of background work, run every ``interval_s`` while a service runs.

Services sweep for what time alone decides (a cart quiet since checkout, a prepayment
never paid). The step finds the due items and changes each in a unit of work of its
own that re-checks it, so several replicas may sweep at once and each change happens
once. A step that raises is logged and tried again in the next round: a sweeper never
dies of one bad round::

    sweeper = Sweeper("cart-abandonment", lambda: abandon_quiet_carts(...), interval_s=60)
    sweeper.runs_with(kit.definition)  # started with the service, stopped before it stops

Stopping is prompt and bounded (ADR 0054). A single ``Task.cancel()`` is not enough on
Python 3.11: ``asyncio.wait_for`` (under PyMongo's and aiosmtplib's socket reads) drops a
cancellation that lands in the loop iteration in which its inner future completes, and
the loop then swept on for ever, holding the service's shutdown. So the loop also waits
on a stop event instead of sleeping, looks at it after every step, and :meth:`stop`
cancels again until the task is gone, giving up (logged) after ``stop_timeout_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from kontor_servicekit.tasks import stop_task

__all__ = ["Sweeper"]

log = logging.getLogger(__name__)


class _Lifecycle(Protocol):
    """What a sweeper hooks into: a ServiceDefinition's start and stop hooks."""

    on_started: list[Callable[[Any], Awaitable[None]]]
    on_stopping: list[Callable[[Any], Awaitable[None]]]


class Sweeper:
    """Runs ``step`` now and then every ``interval_s`` seconds until stopped."""

    def __init__(
        self,
        name: str,
        step: Callable[[], Awaitable[object]],
        *,
        interval_s: float,
        stop_timeout_s: float = 5.0,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self.name = name
        self.step = step
        self.interval_s = interval_s
        self.stop_timeout_s = stop_timeout_s
        self.rounds = 0
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.step()
            except Exception:
                log.exception("sweeper %s failed; trying again next round", self.name)
            self.rounds += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval_s)

    def start(self) -> None:
        if self._task is None:
            self._stopping = asyncio.Event()  # of the loop it runs on (a restart: a new one)
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Stop the loop, cancelling a step under way; returns within ``stop_timeout_s``."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        if not await stop_task(task, timeout_s=self.stop_timeout_s):
            log.warning(
                "sweeper %s did not stop within %.1f s; left behind", self.name, self.stop_timeout_s
            )

    def runs_with(self, service: _Lifecycle) -> Sweeper:
        """Start with ``service`` (after it started) and stop first when it stops."""

        async def start(_kit: object) -> None:
            self.start()

        async def stop(_kit: object) -> None:
            await self.stop()

        service.on_started.append(start)
        service.on_stopping.append(stop)
        return self
