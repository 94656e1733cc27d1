"""What each order costs each service in the benchmark: database commands and the time
its consumers hold one event (issue 17, "cost per order ... printed, so a regression shows
where it happens").

Read from the services' own ``/metrics`` before and after the measured run
(``kontor_db_commands_total`` from the kit's PyMongo listener, ``kontor_event_handle_seconds``
from its consumers), so the figures are what the services did, not what the bench guessed.
The bench's own ``GET /invoices`` polls are in billing's figures too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families

Sample = dict[tuple[str, ...], float]


@dataclass
class MetricsSnapshot:
    """Per service: commands by (command, collection); handling (sum, count) by
    (group, event type)."""

    commands: dict[str, Sample] = field(default_factory=dict)
    db_seconds: dict[str, Sample] = field(default_factory=dict)
    handle_sum: dict[str, Sample] = field(default_factory=dict)
    handle_count: dict[str, Sample] = field(default_factory=dict)


def parse(text: str) -> tuple[Sample, Sample, Sample, Sample]:
    """Commands, database seconds by command, handling sums and counts."""
    commands: Sample = {}
    db_seconds: Sample = {}
    handle_sum: Sample = {}
    handle_count: Sample = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "kontor_db_commands_total":
                commands[(labels["command"], labels["collection"])] = sample.value
            elif sample.name == "kontor_db_command_seconds_total":
                db_seconds[(labels["command"],)] = sample.value
            elif sample.name == "kontor_event_handle_seconds_sum":
                handle_sum[(labels["group"], labels["event_type"])] = sample.value
            elif sample.name == "kontor_event_handle_seconds_count":
                handle_count[(labels["group"], labels["event_type"])] = sample.value
    return commands, db_seconds, handle_sum, handle_count


async def snapshot(clients: Mapping[str, httpx.AsyncClient]) -> MetricsSnapshot:
    shot = MetricsSnapshot()
    for service, client in clients.items():
        response = await client.get("/metrics")
        response.raise_for_status()
        commands, db_seconds, handle_sum, handle_count = parse(response.text)
        shot.commands[service] = commands
        shot.db_seconds[service] = db_seconds
        shot.handle_sum[service] = handle_sum
        shot.handle_count[service] = handle_count
    return shot


def _delta(before: Sample, after: Sample) -> Sample:
    return {k: v - before.get(k, 0.0) for k, v in after.items() if v - before.get(k, 0.0) > 0}


@dataclass
class OrderCosts:
    """Per order (divided by the orders measured)."""

    db_commands_per_order: dict[str, float]
    db_wait_ms_per_order: dict[str, float]
    """Per service the milliseconds its commands took, client side (round trip and
    queueing in the database included)."""
    top_commands_per_order: dict[str, list[tuple[str, float]]]
    """Per service every ``command collection`` pair, most frequent first (the report
    prints the first five, the JSON keeps all)."""
    handling_ms: dict[str, list[tuple[str, float, int]]]
    """Per service ``(group event_type, mean ms, events)``, slowest first."""


def costs(before: MetricsSnapshot, after: MetricsSnapshot, orders: int) -> OrderCosts:
    per_order: dict[str, float] = {}
    waited: dict[str, float] = {}
    top: dict[str, list[tuple[str, float]]] = {}
    handling: dict[str, list[tuple[str, float, int]]] = defaultdict(list)
    for service, now in after.commands.items():
        delta = _delta(before.commands.get(service, {}), now)
        per_order[service] = round(sum(delta.values()) / orders, 1)
        ranked = sorted(delta.items(), key=lambda item: -item[1])
        top[service] = [(" ".join(key), round(n / orders, 2)) for key, n in ranked]
        db_spent = _delta(before.db_seconds.get(service, {}), after.db_seconds.get(service, {}))
        waited[service] = round(sum(db_spent.values()) * 1000 / orders, 1)
    for service, sums in after.handle_sum.items():
        spent = _delta(before.handle_sum.get(service, {}), sums)
        counted = _delta(before.handle_count.get(service, {}), after.handle_count[service])
        for key, seconds in spent.items():
            n = int(counted.get(key, 0))
            if n:
                handling[service].append((" ".join(key), round(seconds * 1000 / n, 1), n))
        handling[service].sort(key=lambda item: -item[1])
    return OrderCosts(per_order, waited, top, dict(handling))


def report_lines(
    found: OrderCosts, cpu_seconds: Mapping[str, float], orders: int
) -> list[tuple[str, str]]:
    """The rows the bench prints."""
    rows: list[tuple[str, str]] = [
        (
            "    CPU ms per order",
            ", ".join(
                f"{n} {s * 1000 / orders:.0f}"
                for n, s in sorted(cpu_seconds.items(), key=lambda item: -item[1])
            ),
        ),
        (
            "    DB commands per order",
            ", ".join(f"{s} {n:g}" for s, n in found.db_commands_per_order.items()),
        ),
    ]
    rows.append(
        (
            "    DB ms per order (client side)",
            ", ".join(f"{s} {ms:g}" for s, ms in found.db_wait_ms_per_order.items()),
        )
    )
    for service, pairs in found.top_commands_per_order.items():
        rows.append((f"      {service} top", ", ".join(f"{k} {n:g}" for k, n in pairs[:5])))
    for service, entries in found.handling_ms.items():
        rows.append(
            (
                f"    {service} ms per event held",
                ", ".join(f"{k} {ms:g} (x{n})" for k, ms, n in entries[:6]),
            )
        )
    return rows
