"""The kit's rate limit (e.g. of orders' public withdrawal function): a sliding window per
client address, with idle addresses forgotten."""

from __future__ import annotations

import pytest
from kontor_servicekit.ratelimit import RateLimiter

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limit_per_client_in_a_sliding_window() -> None:
    clock = Clock()
    limiter = RateLimiter(3, window_s=60, clock=clock)
    for _ in range(3):
        assert limiter.retry_after("10.0.0.1") is None
        clock.now += 10
    assert limiter.retry_after("10.0.0.1") == 30  # the first request leaves the window at 1060
    assert limiter.retry_after("10.0.0.2") is None  # other addresses are not affected
    clock.now = 1060.0
    assert limiter.retry_after("10.0.0.1") is None
    assert limiter.retry_after("10.0.0.1") is not None


def test_refused_requests_do_not_extend_the_wait() -> None:
    clock = Clock()
    limiter = RateLimiter(1, window_s=60, clock=clock)
    assert limiter.retry_after("a") is None
    for _ in range(5):
        clock.now += 1
        assert limiter.retry_after("a") is not None
    clock.now = 1060.0
    assert limiter.retry_after("a") is None


def test_idle_addresses_are_forgotten() -> None:
    clock = Clock()
    limiter = RateLimiter(10, window_s=60, clock=clock)
    for i in range(100):
        limiter.retry_after(f"10.0.{i}.1")
    assert limiter.tracked == 100
    clock.now += 61
    limiter.retry_after("10.9.9.9")
    assert limiter.tracked == 1
