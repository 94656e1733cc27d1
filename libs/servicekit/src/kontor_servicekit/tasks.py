"""Stopping a background task for certain, within a bound (ADR 0054)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

__all__ = ["stop_task"]

log = logging.getLogger(__name__)


async def stop_task(task: asyncio.Task[Any], *, timeout_s: float, every_s: float = 0.1) -> bool:
    """Cancel ``task`` until it is done, at most ``timeout_s``; True when it is.

    Cancelled again every ``every_s``: a cancellation that a library swallowed (Python
    3.11's ``asyncio.wait_for`` does when its future completes in the same iteration)
    is repeated at the task's next await instead of leaving it running.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not task.done():
        task.cancel()
        remaining = deadline - loop.time()
        if remaining <= 0:
            return False
        await asyncio.wait({task}, timeout=min(every_s, remaining))
    if not task.cancelled() and task.exception() is not None:
        log.error("%s ended with %r", task.get_name(), task.exception())
    return True
