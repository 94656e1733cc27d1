"""``make bench-peer``'s side-by-side table, from the peer's JSON and a Kontor result."""

from __future__ import annotations

import pytest
from kontor_local.bench import Latency
from kontor_local.bench_peer import PeerResult, side_by_side
from kontor_local.bench_storefront import StorefrontResult

pytestmark = pytest.mark.unit

# as the peer's bench.py writes it with --json (fields abridged)
PEER = {
    "system": "medusa",
    "n": 200,
    "c": 8,
    "completed": 200,
    "failures": 0,
    "wall_s": 198.0,
    "orders_per_s": 1.01,
    "p50_ms": 7900.0,
    "p99_ms": 9700.0,
    "verified": True,
    "step_p50_ms": {"create_cart": 900.0},
}


def kontor(flows_per_s: float, p50_ms: float, p99_ms: float) -> StorefrontResult:
    return StorefrontResult(
        flows=200,
        concurrency=8,
        requests_per_flow=6,
        steps_without_a_route=["address"],
        completed=200,
        failures={},
        seconds=200 / flows_per_s,
        flows_per_s=flows_per_s,
        flow_latency=Latency(200, p50_ms, p99_ms, p99_ms),
        step_latency={},
        payments_held=0,
        held_at_the_end=0,
        latency_to_invoice=Latency(200, p50_ms, p99_ms, p99_ms),
        invoices_found_once=200,
    )


def test_the_table_gives_kontor_over_medusa() -> None:
    table = side_by_side(kontor(5.05, 1580.0, 4850.0), PeerResult.of(PEER))
    rows = {line.split("  ")[0]: line for line in table.splitlines()}
    assert "5.00 : 1" in rows["flows/s, first request .. last flow done"]  # 5.05 / 1.01
    assert "0.20 : 1" in rows["flow latency p50 ms"]  # 1580 / 7900
    assert "0.50 : 1" in rows["flow latency p99 ms"]  # 4850 / 9700
    assert "admin API count OK" in table and "200 invoices found once" in table


def test_a_peer_without_latencies_gives_no_ratio() -> None:
    peer = PeerResult.of({**PEER, "completed": 0, "failures": 3, "p50_ms": None, "p99_ms": None})
    table = side_by_side(kontor(5.0, 1000.0, 2000.0), peer)
    p50 = next(line for line in table.splitlines() if line.startswith("flow latency p50"))
    assert p50.split()[-1] == "n/a"
    assert "0 / 3" in table
