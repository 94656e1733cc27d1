"""A sliding-window rate limit per client key, in memory. Pure (standard library only).

In memory, per process: with N replicas a client gets at most N x limit. That is
enough against scripted guessing (e.g. of order numbers and e-mail addresses on a
public form). Keys with no request in the window are forgotten, so memory stays
bounded by the keys active within one window.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """At most ``limit`` requests per client key in a sliding window of ``window_s``."""

    def __init__(
        self,
        limit: int,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._next_sweep = 0.0

    def _forget_idle(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.window_s
        for client in [c for c, seen in self._seen.items() if seen[-1] <= now - self.window_s]:
            del self._seen[client]

    def retry_after(self, client: str) -> int | None:
        """None if admitted (and counted), else seconds until the next admission."""
        now = self.clock()
        self._forget_idle(now)
        seen = self._seen.setdefault(client, deque())
        while seen and seen[0] <= now - self.window_s:
            seen.popleft()
        if len(seen) >= self.limit:
            return max(1, math.ceil(seen[0] + self.window_s - now))
        seen.append(now)
        return None

    @property
    def tracked(self) -> int:
        """How many client keys are remembered."""
        return len(self._seen)
