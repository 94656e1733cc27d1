"""Requests the HTTP edge refuses before routing (400 non-standard JSON, 413 oversized)
are counted in the HTTP metrics like every other answer, under the route they were
addressed to (issue 9: the metrics middleware sat inside the refusing ones and never
saw them)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.security


def _count(metrics: str, method: str, route: str, status: int) -> float:
    labels = {f'method="{method}"', f'route="{route}"', f'status="{status}"'}
    for line in metrics.splitlines():
        if line.startswith("kontor_http_request_duration_seconds_count{"):
            inside, value = line.removeprefix("kontor_http_request_duration_seconds_count{").split(
                "} "
            )
            if labels <= set(inside.split(",")):
                return float(value)
    return 0.0


async def test_refusals_before_routing_are_counted_under_their_route(start_service: Any) -> None:
    async with start_service("catalog", max_body_bytes=4096) as catalog:
        hostile = await catalog.client.post(
            "/products",
            content=b'{"sku": "A", "price": {"net": NaN}}',
            headers={"content-type": "application/json"},
        )
        oversized = await catalog.client.post(
            "/products",
            content=b'{"sku": "' + b"A" * 10_000 + b'"}',
            headers={"content-type": "application/json"},
        )
        unknown = await catalog.client.post(
            "/no-such-route", content=b"[NaN]", headers={"content-type": "application/json"}
        )
        assert (hostile.status_code, oversized.status_code) == (400, 413)
        metrics = (await catalog.client.get("/metrics")).text
    assert _count(metrics, "POST", "/products", 400) == 1.0
    assert _count(metrics, "POST", "/products", 413) == 1.0
    assert _count(metrics, "POST", "unmatched", unknown.status_code) == 1.0
