"""The per-order costs the bench prints, from two scrapes of a service's /metrics."""

from __future__ import annotations

import pytest
from kontor_local.bench_costs import MetricsSnapshot, costs, parse

pytestmark = pytest.mark.unit

BEFORE = """\
kontor_db_commands_total{collection="inbox",command="insert"} 4.0
kontor_db_command_seconds_total{command="insert"} 0.1
kontor_event_handle_seconds_sum{event_type="OrderPlaced",group="billing.invoicing"} 0.5
kontor_event_handle_seconds_count{event_type="OrderPlaced",group="billing.invoicing"} 10.0
"""
AFTER = """\
kontor_db_commands_total{collection="inbox",command="insert"} 24.0
kontor_db_commands_total{collection="invoices",command="find"} 30.0
kontor_db_command_seconds_total{command="insert"} 0.3
kontor_db_command_seconds_total{command="find"} 0.2
kontor_event_handle_seconds_sum{event_type="OrderPlaced",group="billing.invoicing"} 1.5
kontor_event_handle_seconds_count{event_type="OrderPlaced",group="billing.invoicing"} 20.0
"""


def shot(text: str) -> MetricsSnapshot:
    commands, db_seconds, handle_sum, handle_count = parse(text)
    return MetricsSnapshot(
        {"billing": commands},
        {"billing": db_seconds},
        {"billing": handle_sum},
        {"billing": handle_count},
    )


def test_costs_are_the_difference_per_order() -> None:
    found = costs(shot(BEFORE), shot(AFTER), orders=10)
    assert found.db_commands_per_order == {"billing": 5.0}  # (20 + 30) / 10
    assert found.db_wait_ms_per_order == {"billing": 40.0}  # (0.2 + 0.2) s / 10
    assert found.top_commands_per_order["billing"] == [
        ("find invoices", 3.0),
        ("insert inbox", 2.0),
    ]
    # 10 more events took 1.0 s: 100 ms each
    assert found.handling_ms["billing"] == [("billing.invoicing OrderPlaced", 100.0, 10)]
