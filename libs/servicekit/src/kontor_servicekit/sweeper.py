"""A sweeper: one step of background work, run every ``interval_s`` while a service runs.

Services sweep for what time alone decides (a cart quiet since checkout, a prepayment
never paid). The step finds the due items and changes each in a unit of work of its
own that re-checks it, so several replicas may sweep at once and each change happens
once. A step that raises is logged and tried again in the next round: a sweeper never
dies of one bad round::

    sweeper = Sweeper("cart-abandonment", lambda: abandon_quiet_carts(...), interval_s=60)
    sweeper.runs_with(kit.definition)  # started with the service, stopped before it stops
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

__all__ = ["Sweeper"]

log = logging.getLogger(__name__)


class _Lifecycle(Protocol):
    """What a sweeper hooks into: a ServiceDefinition's start and stop hooks."""

    on_started: list[Callable[[Any], Awaitable[None]]]
    on_stopping: list[Callable[[Any], Awaitable[None]]]


class Sweeper:
    """Runs ``step`` now and then every ``interval_s`` seconds until stopped."""

    def __init__(
        self, name: str, step: Callable[[], Awaitable[object]], *, interval_s: float
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self.name = name
        self.step = step
        self.interval_s = interval_s
        self.rounds = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            try:
                await self.step()
            except Exception:
                log.exception("sweeper %s failed; trying again next round", self.name)
            self.rounds += 1
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def runs_with(self, service: _Lifecycle) -> Sweeper:
        """Start with ``service`` (after it started) and stop first when it stops."""

        async def start(_kit: object) -> None:
            self.start()

        async def stop(_kit: object) -> None:
            await self.stop()

        service.on_started.append(start)
        service.on_stopping.append(stop)
        return self
