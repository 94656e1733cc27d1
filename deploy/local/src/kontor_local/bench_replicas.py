"""``make bench-replicas``: billing with 1, 2 and 4 replicas of one consumer group (issue 17).

``python -m kontor_local.bench_replicas [--orders N] [--replicas 1,2,4] [--json PATH]``

Issue 17 asks how throughput grows with consumer replicas and where the gap-free invoice
range serialises. One run starts the embedded broker and database once; then, for each
replica count K, in a fresh namespace (topic and group prefix, database):

1. K billing processes (the same ``kontor_billing`` as ``make run``, each on its own HTTP
   port) join one ``billing.invoicing`` group on ``orders.order.v1`` (6 partitions);
2. N orders' ``OrderPlaced`` + ``OrderConfirmed`` are produced at once (keyed by order, as
   orders does), a backlog the group drains;
3. the clock runs from the first produce until every ``InvoiceIssued`` is on the topic.

Printed per K: invoices/s, how the work split over the replicas (events each handled),
CPU seconds per component, the write conflicts the replicas' transactions met (failed
database commands with code 112, ``kontor_db_command_failures_total``), commits, and
whether the numbers are exactly once and gap-free. The orders are the contract samples
(plain payloads, as billing's own integration tests feed it); catalog and orders do not
run, so the figure is billing's alone against the same database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from kontor_local.bench import (
    INVOICE_TOPIC,
    ORDER_TOPIC,
    BenchError,
    EventWatcher,
    _cpu_delta,
    _cpu_snapshot,
    _terminate_as_interrupt,
    _token,
    numbers_gap_free,
)
from kontor_local.runtime import (
    LocalSettings,
    Platform,
    ServiceSpec,
    free_port,
    registry_topic_specs,
)

DEFAULT_REPLICAS = (1, 2, 4)
SETTLE_S = 3.0
"""After every replica reports consuming, the last join's rebalance may still move
partitions; the backlog waits this long so the clock does not count the group's join."""


@dataclass
class ReplicaRun:
    replicas: int
    orders: int
    seconds: float
    invoices_per_s: float
    handled_per_replica: dict[str, int]
    cpu_seconds: dict[str, float]
    write_conflicts: int
    commits: int
    invoices_seen: int
    duplicates: int
    gap_free: bool


def _counters(text: str) -> dict[str, float]:
    """What the replica's ``/metrics`` says: OrderConfirmed events handled, commits, and
    commands failed with a write conflict."""
    found = {"handled": 0.0, "commits": 0.0, "conflicts": 0.0}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if (
                sample.name == "kontor_events_handled_total"
                and labels.get("event_type") == "OrderConfirmed"
                and labels.get("outcome") == "handled"
            ):
                found["handled"] += sample.value
            elif (
                sample.name == "kontor_db_commands_total"
                and labels.get("command") == "commitTransaction"
            ):
                found["commits"] += sample.value
            elif sample.name == "kontor_db_command_failures_total" and labels.get("code") == "112":
                found["conflicts"] += sample.value
    return found


async def _scrape(urls: dict[str, str]) -> dict[str, dict[str, float]]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        answers = {name: await client.get(f"{url}/metrics") for name, url in urls.items()}
    return {name: _counters(answer.text) for name, answer in answers.items()}


def _backlog(orders: int) -> tuple[list[str], list[tuple[bytes, bytes, list[tuple[str, bytes]]]]]:
    from kontor_contracts.samples import order_confirmed_envelope, order_placed_envelope
    from kontor_servicekit.testing import as_message

    ids, messages = [], []
    for number in range(1, orders + 1):
        placed = order_placed_envelope(number=number)
        ids.append(placed.aggregate_id)
        messages += [as_message(placed), as_message(order_confirmed_envelope(placed))]
    return ids, messages


async def _drain(
    platform: Platform, prefix: str, orders: int, urls: dict[str, str], timeout: float
) -> ReplicaRun:
    from kontor_servicekit.testing import produce

    partitions = dict(registry_topic_specs())
    watcher = EventWatcher(
        platform.kafka_bootstrap,
        prefix + INVOICE_TOPIC,
        partitions.get(INVOICE_TOPIC, 1),
        "InvoiceIssued",
    )
    await watcher.start()
    try:
        ids, messages = _backlog(orders)
        before_metrics = await _scrape(urls)
        before_cpu = _cpu_snapshot(platform)
        started = time.perf_counter()
        await produce(platform.kafka_bootstrap, prefix + ORDER_TOPIC, messages)
        await watcher.wait_for(ids, timeout=timeout)
        last = max(watcher.seen[order_id] for order_id in ids)
        cpu = _cpu_delta(before_cpu, _cpu_snapshot(platform))
        after_metrics = await _scrape(urls)
    finally:
        await watcher.stop()
    seconds = max(last - started, 1e-6)

    def delta(name: str, key: str) -> int:
        return round(after_metrics[name][key] - before_metrics[name][key])

    return ReplicaRun(
        replicas=len(urls),
        orders=orders,
        seconds=round(seconds, 2),
        invoices_per_s=round(orders / seconds, 1),
        handled_per_replica={name: delta(name, "handled") for name in urls},
        cpu_seconds={
            name: value
            for name, value in cpu.items()
            if name in urls or name in ("database", "broker", "objectstore")
        },
        write_conflicts=sum(delta(name, "conflicts") for name in urls),
        commits=sum(delta(name, "commits") for name in urls),
        invoices_seen=len(watcher.seen),
        duplicates=watcher.duplicates,
        gap_free=numbers_gap_free([watcher.numbers[order_id] for order_id in ids]),
    )


def _stop(platform: Platform, names: Sequence[str]) -> None:
    for name in names:
        process = platform.services.pop(name, None)
        if process is not None:
            process.stop()


def run_replicas(
    orders: int = 300,
    replicas: Sequence[int] = DEFAULT_REPLICAS,
    *,
    timeout: float = 600.0,
    work_dir: Path | None = None,
    log: Any = None,
) -> list[ReplicaRun]:
    """One broker and database; per replica count a fresh namespace and K billing
    processes draining the same backlog; everything stopped at the end."""
    say = log or (lambda message: print(message, file=sys.stderr, flush=True))
    if orders < 1 or not replicas or min(replicas) < 1:
        raise BenchError("--orders and every --replicas count must be at least 1")
    partitions = dict(registry_topic_specs()).get(ORDER_TOPIC, 1)
    if max(replicas) > partitions:
        raise BenchError(f"{ORDER_TOPIC} has {partitions} partitions: at most that many replicas")
    tmp = Path(tempfile.mkdtemp(prefix="kontor-replicas-", dir=work_dir))
    configured = LocalSettings.from_env()
    settings = LocalSettings(
        data_dir=tmp,
        broker_port=free_port(),
        mongo_port=free_port(),
        service_ports={"billing": free_port()},
        s3_port=free_port(),
        broker_storage=configured.broker_storage,
        broker_fsync=configured.broker_fsync,
        mongo_sync_on_commit=configured.mongo_sync_on_commit,
    )
    ok = False
    runs: list[ReplicaRun] = []
    try:
        with _terminate_as_interrupt(), Platform(settings, log_dir=tmp / "logs") as platform:
            _bearer, public_key = _token(settings.keys_dir)
            say(f"replicas: work dir {tmp}; starting broker and database")
            platform.start_infra()
            for count in replicas:
                prefix = f"r{count}-{uuid.uuid4().hex[:6]}."
                specs = [_replica(prefix, count, index) for index in range(1, count + 1)]
                say(f"replicas: {count} billing replica(s), backlog of {orders} orders")
                platform.start_services(specs, public_key)
                time.sleep(SETTLE_S)
                urls = {spec.name: spec.url for spec in specs}
                run = asyncio.run(_drain(platform, prefix, orders, urls, timeout))
                _stop(platform, [spec.name for spec in specs])
                say(f"replicas: {count} -> {run.invoices_per_s} invoices/s")
                runs.append(run)
            ok = True
            return runs
    finally:
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            say(f"replicas: failed; logs kept in {tmp / 'logs'}")


def _replica(prefix: str, count: int, index: int) -> ServiceSpec:
    port = free_port()
    return ServiceSpec(
        f"billing-{count}x{index}",
        "kontor_billing",
        port,
        env={
            "KONTOR_BILLING_HTTP_PORT": str(port),
            "KONTOR_TOPIC_PREFIX": prefix,
            "KONTOR_MONGO_DATABASE": f"kontor_billing_{prefix.rstrip('.').replace('-', '_')}",
            "KONTOR_KAFKA_ENSURE_TOPICS": "true",
            "KONTOR_LOG_LEVEL": "WARNING",
        },
    )


def format_runs(runs: Sequence[ReplicaRun]) -> str:
    base = runs[0].invoices_per_s if runs else 0.0
    lines = ["Kontor bench-replicas: billing.invoicing draining a backlog", "-" * 96]
    for run in runs:
        speedup = run.invoices_per_s / base if base else 0.0
        split = ", ".join(str(v) for v in run.handled_per_replica.values())
        cpu = ", ".join(f"{k} {v:.1f}" for k, v in sorted(run.cpu_seconds.items()))
        exact = run.invoices_seen == run.orders and run.duplicates == 0
        lines += [
            f"{run.replicas} replica(s): {run.invoices_per_s} invoices/s ({run.orders} in "
            f"{run.seconds} s), x{speedup:.2f} of one",
            f"    OrderConfirmed handled per replica: {split}",
            f"    write conflicts (code 112): {run.write_conflicts}; commits: {run.commits}"
            f" ({run.orders / max(run.commits, 1):.1f} invoices per commit)",
            f"    CPU s: {cpu}",
            f"    invoices exactly once: {'yes' if exact else 'NO'}; numbers gap-free: "
            f"{'yes' if run.gap_free else 'NO'}",
        ]
    lines.append("-" * 96)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kontor_local.bench_replicas")
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--replicas", default=",".join(str(r) for r in DEFAULT_REPLICAS))
    parser.add_argument("--json", type=Path, default=None, help="also write the runs as JSON")
    args = parser.parse_args(argv)
    try:
        counts = [int(part) for part in args.replicas.split(",") if part.strip()]
        runs = run_replicas(args.orders, counts)
    except (BenchError, ValueError) as exc:
        print(f"bench-replicas: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    print(format_runs(runs))
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(run) for run in runs], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
