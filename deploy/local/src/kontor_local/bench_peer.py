"""``make bench-peer``: Kontor's storefront flow beside the Medusa peer's, in one run.

``python -m kontor_local.bench_peer [--n 200] [--c 8] [--warmup 20] [--orders 100]``

Issue 17: "the same 7-step flow a shop's frontend runs ... side by side with the Medusa
peer in one run (``make bench-peer``, optional, not in ``make test``), printed as a
ratio". The peer is run first, by its own script (``../shared/peers/medusa/peer.sh``:
PostgreSQL 15 from Debian and Medusa 2.21 from npm, then its storefront benchmark, then
both stopped again), then ``make bench``'s run with N storefront flows from C clients
(its closed loop (a) with ``--orders``, no open loop). One after the other, so neither
takes the other's cores. Both count a flow from its first request to the answer of its
last (Medusa: complete cart; Kontor: the payment booked).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kontor_local.bench import BenchError, format_report, run_bench
from kontor_local.bench_storefront import StorefrontResult
from kontor_local.runtime import find_repo_root


def default_peer_dir() -> Path:
    return find_repo_root().parent / "shared" / "peers" / "medusa"


@dataclass
class PeerResult:
    """What the peer's bench.py writes with ``--json`` (the fields used here)."""

    completed: int
    failures: int
    orders_per_s: float
    p50_ms: float | None
    p99_ms: float | None
    verified: bool
    step_p50_ms: dict[str, float]

    @classmethod
    def of(cls, data: dict[str, Any]) -> PeerResult:
        return cls(
            completed=int(data["completed"]),
            failures=int(data["failures"]),
            orders_per_s=float(data["orders_per_s"]),
            p50_ms=data.get("p50_ms"),
            p99_ms=data.get("p99_ms"),
            verified=bool(data.get("verified")),
            step_p50_ms=dict(data.get("step_p50_ms") or {}),
        )


def run_peer(peer_dir: Path, n: int, c: int, warmup: int, out: Path) -> PeerResult:
    """The peer's own script; its output goes to stderr as it comes."""
    script = peer_dir / "peer.sh"
    if not script.is_file():
        raise BenchError(f"the Medusa peer is not at {peer_dir} (no peer.sh)")
    argv = ["bash", str(script), "--n", str(n), "--c", str(c), "--warmup", str(warmup)]
    completed = subprocess.run([*argv, "--json", str(out)], stdout=sys.stderr, check=False)
    if not out.is_file():
        raise BenchError(f"the Medusa peer wrote no figures (exit {completed.returncode})")
    return PeerResult.of(json.loads(out.read_text("utf-8")))


def _ratio(kontor: float | None, peer: float | None) -> str:
    if not kontor or not peer:
        return "n/a"
    return f"{kontor / peer:,.2f} : 1"


def side_by_side(front: StorefrontResult, peer: PeerResult) -> str:
    """Both flows in one table, Kontor over Medusa as the ratio (higher is Kontor ahead for
    throughput, lower for latency)."""
    rows = [
        ("figure", "Kontor", "Medusa 2.21", "Kontor : Medusa"),
        (
            "flows/s, first request .. last flow done",
            f"{front.flows_per_s:,.2f}",
            f"{peer.orders_per_s:,.2f}",
            _ratio(front.flows_per_s, peer.orders_per_s),
        ),
        (
            "flow latency p50 ms",
            f"{front.flow_latency.p50_ms:,.0f}",
            f"{peer.p50_ms:,.0f}" if peer.p50_ms is not None else "n/a",
            _ratio(front.flow_latency.p50_ms, peer.p50_ms),
        ),
        (
            "flow latency p99 ms",
            f"{front.flow_latency.p99_ms:,.0f}",
            f"{peer.p99_ms:,.0f}" if peer.p99_ms is not None else "n/a",
            _ratio(front.flow_latency.p99_ms, peer.p99_ms),
        ),
        ("requests per flow", str(front.requests_per_flow), "7", ""),
        (
            "flows completed / failed",
            f"{front.completed} / {sum(front.failures.values())}",
            f"{peer.completed} / {peer.failures}",
            "",
        ),
        (
            "checked",
            f"{front.invoices_found_once} invoices found once",
            "admin API count " + ("OK" if peer.verified else "MISMATCH"),
            "",
        ),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "Storefront flow, Kontor beside the Medusa peer\n" + "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kontor_local.bench_peer",
        description="Kontor's storefront flow beside the Medusa peer's, as a ratio.",
    )
    parser.add_argument("--n", type=int, default=200, help="flows on each side (default 200)")
    parser.add_argument("--c", type=int, default=8, help="clients on each side (default 8)")
    parser.add_argument("--warmup", type=int, default=20, help="the peer's warm-up orders")
    parser.add_argument("--orders", type=int, default=100, help="Kontor's closed loop (a)")
    parser.add_argument("--peer-dir", type=Path, default=None, help="the Medusa peer's folder")
    parser.add_argument("--json", type=Path, default=None, help="also write both here")
    args = parser.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="kontor-bench-peer-") as tmp:
            print("bench-peer: the Medusa peer first", file=sys.stderr, flush=True)
            peer = run_peer(
                args.peer_dir or default_peer_dir(),
                args.n,
                args.c,
                args.warmup,
                Path(tmp) / "medusa.json",
            )
        print("bench-peer: then Kontor", file=sys.stderr, flush=True)
        report = run_bench(args.orders, args.c, rate=0.0, storefront=args.n)
    except KeyboardInterrupt:
        print("bench-peer: interrupted", file=sys.stderr)
        return 130
    except (BenchError, RuntimeError, subprocess.SubprocessError) as exc:
        print(f"bench-peer: {exc}", file=sys.stderr)
        return 1
    assert report.storefront is not None
    print(format_report(report))
    print(side_by_side(report.storefront, peer))
    if args.json is not None:
        both = {"kontor": report.to_dict(), "medusa": peer.__dict__}
        args.json.write_text(json.dumps(both, indent=2) + "\n", "utf-8")
    return 0 if not report.storefront.failures and not peer.failures else 1


if __name__ == "__main__":
    sys.exit(main())
