"""(d) of ``make bench``: the open loop (issue 17, "at a fixed offered load of 50 orders/s").

Orders are sent on a fixed schedule, order ``i`` at ``start + i / rate``, whatever the
answers to the earlier ones: a slow answer does not slow the senders down, as it would
with the closed loop's C clients (each waits for its answer), so the queue a slow stage
builds shows in the latency instead of lowering the offered load.

Measured with the closed loop's instruments (``Placing``: the POST and its 503 retries,
the sampled ``GET /invoices`` polls; the InvoiceIssued and OrderPlaced watchers on the
topics). Every latency counts from the order's slot in the schedule, not from when the
bench managed to send it, so a bench that falls behind does not hide the wait; how many
orders were sent more than ``LATE_S`` after their slot is printed beside it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from kontor_local.bench import (
    BenchError,
    Flow,
    Latency,
    PlaceResult,
    Placing,
    events_per_s,
    watching,
)
from kontor_local.runtime import Platform

LATE_S = 0.010
"""An order sent more than 10 ms after its slot fell behind the schedule."""
START_DELAY_S = 0.05


@dataclass
class OpenLoopResult:
    rate_per_s: float
    orders: int
    offered_seconds: float
    behind_schedule: int
    max_lag_ms: float
    failed_posts: int
    failed_post_answers: dict[str, int]
    posts_retried_after_503: int
    post_latency: Latency
    latency_topic: Latency
    latency_api_sample: Latency
    stage_post_to_order_placed: Latency
    sample_every: int
    sample_gets: int
    post_answered_per_s: float
    invoice_issued_per_s: float
    invoices_seen: int
    invoice_events_duplicated: int


async def place_on_schedule(
    flow: Flow, order: dict[str, Any], count: int, rate: float, sample_every: int
) -> tuple[PlaceResult, list[float]]:
    """``count`` orders, one every ``1 / rate`` s; returns the result and each send's lag."""
    lags: list[float] = []
    async with (
        Placing(flow, readers=8, count=count) as placing,
        flow.client("orders", connections=None) as orders,
    ):
        start = time.perf_counter() + START_DELAY_S
        posts: list[asyncio.Task[None]] = []
        for index in range(count):
            slot = start + index / rate
            wait = slot - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            lags.append(time.perf_counter() - slot)
            posts.append(
                asyncio.create_task(placing.post(orders, order, index, slot, sample_every))
            )
        await asyncio.gather(*posts)
        return await placing.result(), lags


async def measure_open_loop(
    platform: Platform,
    flow: Flow,
    order: dict[str, Any],
    count: int,
    rate: float,
    sample_every: int,
) -> OpenLoopResult:
    """(d): ``count`` orders at ``rate`` per second, until every invoice is on the topic."""
    if rate <= 0 or count < 1:
        raise BenchError("the open loop needs a positive --rate and at least one order")
    async with watching(platform) as (watcher, order_watcher):
        run, lags = await place_on_schedule(flow, order, count, rate, sample_every)
        placed = sorted(run.placed, key=lambda p: p.sent)
        ids = [p.order_id for p in placed]
        await watcher.wait_for(ids, timeout=120.0 + count * 0.5)
        await order_watcher.wait_for(ids, timeout=10.0)
        flow.check_services()
        return OpenLoopResult(
            rate_per_s=rate,
            orders=count,
            offered_seconds=round(count / rate, 2),
            behind_schedule=sum(1 for lag in lags if lag > LATE_S),
            max_lag_ms=round(max(lags, default=0.0) * 1000, 1),
            failed_posts=sum(run.failures.values()),
            failed_post_answers=run.failures,
            posts_retried_after_503=run.retried,
            post_latency=Latency.of([p.answered - p.sent for p in placed]),
            latency_topic=Latency.of([watcher.seen[p.order_id] - p.sent for p in placed]),
            latency_api_sample=Latency.of(run.sampled),
            stage_post_to_order_placed=Latency.of(
                [order_watcher.seen[p.order_id] - p.sent for p in placed]
            ),
            sample_every=sample_every,
            sample_gets=run.sample_gets,
            post_answered_per_s=events_per_s([p.answered for p in placed]),
            invoice_issued_per_s=events_per_s([watcher.seen[i] for i in ids]),
            invoices_seen=len(ids),
            invoice_events_duplicated=watcher.duplicates,
        )


def open_loop_lines(result: OpenLoopResult) -> list[tuple[str, str]]:
    """The rows the bench prints, with the goals of issue 17 beside the figures."""
    r = result

    def latency(value: Latency) -> str:
        return f"p50 {value.p50_ms:,.1f} ms  p99 {value.p99_ms:,.1f} ms  max {value.max_ms:,.1f} ms"

    return [
        (
            "(d) open loop, offered load",
            f"{r.rate_per_s:g} orders/s for {r.offered_seconds:g} s ({r.orders} orders); "
            f"{r.behind_schedule} sent > {LATE_S * 1000:.0f} ms behind schedule "
            f"(max {r.max_lag_ms:,.1f} ms)",
        ),
        ("    POST /orders (goal p99 < 100 ms)", latency(r.post_latency)),
        (
            "    POST -> invoice, topic-watch (goal p50 < 300 ms, p99 < 1 s)",
            f"{latency(r.latency_topic)}  (n={r.latency_topic.count})",
        ),
        (
            f"    POST -> invoice, API poll, every {r.sample_every}th",
            f"{latency(r.latency_api_sample)}  (n={r.latency_api_sample.count}, "
            f"{r.sample_gets} GETs)",
        ),
        ("    stage POST -> OrderPlaced on topic", latency(r.stage_post_to_order_placed)),
        (
            "    rates, first..last",
            f"POST answered {r.post_answered_per_s:,.1f}/s, "
            f"InvoiceIssued {r.invoice_issued_per_s:,.1f}/s",
        ),
        (
            "    invoices seen / POSTs retried after 503 / failed",
            f"{r.invoices_seen}/{r.orders} / {r.posts_retried_after_503} / {r.failed_posts}"
            + (f" {r.failed_post_answers}" if r.failed_post_answers else "")
            + f"; duplicate InvoiceIssued {r.invoice_events_duplicated}",
        ),
    ]
