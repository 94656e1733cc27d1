"""`make bench` end to end at a small size: every figure present, every invoice found once.

No timing thresholds: the machine decides the numbers; the test only checks that the
run measured what it says and left nothing behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from kontor_local.bench import main, numbers_gap_free
from kontor_local.runtime import LocalSettings

from .helpers import descendants

pytestmark = pytest.mark.integration


def test_invoice_numbers_gap_free() -> None:
    assert numbers_gap_free(["RE-2026-000002", "RE-2026-000001", "RE-2027-000001"])
    assert not numbers_gap_free(["RE-2026-000001", "RE-2026-000003"])
    assert not numbers_gap_free(["INV-1"])


def _assert_complete(report: dict[str, Any], orders: int, concurrency: int) -> None:
    flow, kafka, mongo = report["flow"], report["kafka"], report["mongo"]
    assert (report["orders"], report["concurrency"]) == (orders, concurrency)
    assert flow["failed_posts"] == 0
    assert flow["invoices_found_once"] == orders
    assert flow["invoices_missing"] == 0
    assert flow["invoices_duplicated"] == 0
    assert flow["invoice_numbers_gap_free"] is True
    assert flow["latency_topic"]["count"] == orders
    assert flow["latency_api_sample"]["count"] == -(-orders // flow["sample_every"])
    positive = {
        "orders/s": flow["orders_per_s"],
        "topic p50": flow["latency_topic"]["p50_ms"],
        "topic p99": flow["latency_topic"]["p99_ms"],
        "API p50": flow["latency_api_sample"]["p50_ms"],
        "API p99": flow["latency_api_sample"]["p99_ms"],
        "POST p50": flow["post_latency"]["p50_ms"],
        "kafka msgs/s": kafka["msgs_per_s"],
        "kafka message bytes": kafka["message_bytes"],
        "mongo inserts/s": mongo["inserts_per_s_default"],
        "mongo j inserts/s": mongo["inserts_per_s_journaled"],
        "mongo document bytes": mongo["document_bytes"],
        "(a)/(b)": report["ratio_flow_to_kafka"],
        "(a)/(c)": report["ratio_flow_to_mongo_default"],
        "(a)/(c) j": report["ratio_flow_to_mongo_journaled"],
    }
    assert all(value > 0 for value in positive.values()), positive
    # what an order costs each service, read from the services' own /metrics
    costs = flow["costs"]
    assert set(costs["db_commands_per_order"]) == {"catalog", "orders", "billing"}
    assert all(n > 0 for n in costs["db_commands_per_order"].values()), costs
    held = {entry[0] for entry in costs["handling_ms"]["billing"]}
    assert "billing.invoicing OrderConfirmed" in held, held
    assert flow["latency_topic"]["p50_ms"] <= flow["latency_topic"]["p99_ms"]
    assert kafka["messages"] == orders
    assert mongo["documents"] == orders
    assert report["machine"]["cores"]
    assert "tansu" in report["machine"]["broker_binary"]
    # the same database flags as `make run`
    expected = LocalSettings.from_env().mongo_sync_on_commit
    assert report["machine"]["mongo_sync_on_commit"] is expected


def _assert_start_and_idle(report: dict[str, Any]) -> None:
    """Each service's time to ready and to consuming, and every component's idle memory."""
    services = {"catalog", "orders", "billing"}
    ready, consuming = report["startup_seconds"], report["consuming_seconds"]
    assert services <= set(ready) and services == set(consuming), (ready, consuming)
    assert all(0 < ready[name] <= consuming[name] for name in services), (ready, consuming)
    # the services' code is imported while the database and broker start, as in `make
    # run` (it used to be imported after them, inside every service's start figure)
    code = report["code_import"]
    assert code["alongside_infra"] is True and code["seconds"] > 0, code
    assert 0 <= code["waited_s"] < code["seconds"], code
    memory = report["idle"]["memory"]
    assert services | {"database", "broker"} <= set(memory), memory
    for name, used in memory.items():
        assert used["processes"] >= 1, (name, used)
        assert 0 < used["pss_mb"] <= used["rss_mb"], (name, used)
    # a service process is a Python interpreter with its libraries: tens of MB, not bytes
    assert all(memory[name]["rss_mb"] > 20 for name in services), memory


def _assert_storefront(front: dict[str, Any], flows: int) -> None:
    """(e): every flow went through all six requests, was paid and invoiced once."""
    assert (front["flows"], front["completed"], front["failures"]) == (flows, flows, {})
    assert front["requests_per_flow"] == 6 and front["steps_without_a_route"] == ["address"]
    steps = front["step_latency"]
    assert set(steps) == {"cart", "lines", "shipping", "checkout", "order", "payment"}
    assert all(step["count"] == flows for step in steps.values()), steps
    assert front["invoices_found_once"] == flows
    assert front["latency_to_invoice"]["count"] == flows
    # paid by the provider's signed webhook; whatever was held, OrderPlaced released it
    assert 0 <= front["payments_held"] <= flows
    assert front["held_at_the_end"] == 0
    # a flow is its steps one after the other: longer than its slowest step
    slowest = max(step["p50_ms"] for step in steps.values())
    assert front["flow_latency"]["p50_ms"] >= slowest
    assert front["flows_per_s"] > 0


def _assert_open_loop(open_loop: dict[str, Any], orders: int, rate: float) -> None:
    """(d): every scheduled order sent, answered and invoiced, latencies from its slot."""
    assert (open_loop["orders"], open_loop["rate_per_s"]) == (orders, rate)
    assert open_loop["failed_posts"] == 0
    assert open_loop["invoices_seen"] == orders
    assert open_loop["post_latency"]["count"] == orders
    assert open_loop["latency_topic"]["count"] == orders
    assert open_loop["latency_api_sample"]["count"] == -(-orders // open_loop["sample_every"])
    assert 0 <= open_loop["behind_schedule"] <= orders
    # an invoice follows its order's POST answer and its OrderPlaced on the topic
    topic, post = open_loop["latency_topic"], open_loop["post_latency"]
    assert 0 < post["p50_ms"] <= topic["p50_ms"]
    assert open_loop["stage_post_to_order_placed"]["p50_ms"] <= topic["p50_ms"]
    # the schedule held the offered load: 20 orders at 10/s are answered over ~2 s, not at once
    assert open_loop["post_answered_per_s"] < rate * 2


@pytest.mark.timeout(180)
def test_bench_reports_every_figure_and_stops_everything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the bench's work dir
    before = descendants(os.getpid())
    out = tmp_path / "bench.json"

    small = ["--orders", "20", "--concurrency", "2", "--rate", "10", "--open-seconds", "2"]
    small += ["--storefront", "6"]
    code = main([*small, "--json", str(out)])

    printed = capsys.readouterr()
    assert code == 0, printed.err[-3000:]
    for label in (
        "(a) orders/s",
        "latency topic-watch",
        "latency API poll",
        "(b) raw Kafka",
        "(c) raw Mongo insert_one, default WC",
        "(c) raw Mongo insert_one, j=True",
        "ratio (a)/(b)",
        "ratio (a)/(c) default WC",
        "ratio (a)/(c) j=True",
        "CPU ms per order",
        "DB commands per order",
        "billing ms per event held",
        "20/20 exactly once",
        "gap-free: yes",
        "tansu",
        "(d) open loop, offered load",
        "10 orders/s for 2 s (20 orders)",
        "POST /orders (goal p99 < 100 ms)",
        "POST -> invoice, topic-watch (goal p50 < 300 ms, p99 < 1 s)",
        "(e) storefront flows/s",
        "6/6 flows",
        "start to ready (goal 5 s)",
        "services' code imported (zygote)",
        "idle memory RSS / PSS",
    ):
        assert label in printed.out, label
    report = json.loads(out.read_text())
    _assert_complete(report, 20, 2)
    _assert_open_loop(report["open_loop"], 20, 10.0)
    _assert_storefront(report["storefront"], 6)
    _assert_start_and_idle(report)
    assert descendants(os.getpid()) <= before  # broker, database, services: all gone
    assert [p.name for p in tmp_path.iterdir()] == ["bench.json"]  # work dir removed
