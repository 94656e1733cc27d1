"""`make bench-replicas` at a tiny size: one and two billing replicas drain the same
backlog, every invoice once and gap-free, and the replicas' handled events add up.

No timing thresholds: the figures are the machine's; the test checks what was measured.
"""

from __future__ import annotations

import pytest
from kontor_local.bench import BenchError
from kontor_local.bench_replicas import _counters, format_runs, run_replicas

pytestmark = pytest.mark.integration


def test_the_counters_come_from_the_replica_s_metrics() -> None:
    text = "\n".join(
        [
            'kontor_events_handled_total{group="billing.invoicing",event_type="OrderConfirmed",'
            'outcome="handled"} 7.0',
            'kontor_events_handled_total{group="billing.invoicing",event_type="OrderPlaced",'
            'outcome="handled"} 9.0',
            'kontor_db_commands_total{command="commitTransaction",collection="-"} 3.0',
            'kontor_db_command_failures_total{command="update",code="112"} 2.0',
            'kontor_db_command_failures_total{command="insert",code="11000"} 5.0',
        ]
    )
    assert _counters(text) == {"handled": 7.0, "commits": 3.0, "conflicts": 2.0}


def test_more_replicas_than_partitions_are_refused() -> None:
    with pytest.raises(BenchError, match="partitions"):
        run_replicas(10, (1, 7))


def test_one_and_two_replicas_drain_a_backlog_exactly_once() -> None:
    runs = run_replicas(12, (1, 2))
    assert [run.replicas for run in runs] == [1, 2]
    for run in runs:
        assert run.invoices_seen == 12 and run.duplicates == 0 and run.gap_free
        assert sum(run.handled_per_replica.values()) == 12
        assert len(run.handled_per_replica) == run.replicas
        assert run.commits >= 1 and run.invoices_per_s > 0
    assert "2 replica(s):" in format_runs(runs)
