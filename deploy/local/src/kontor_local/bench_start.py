"""Start to ready, alone: ``python -m kontor_local.bench_start [--services a,b] [--early]``.

Starts a fresh broker and database on free ports, then the named services as the
runtime starts them (forks of the zygote, or ``KONTOR_LOCAL_SERVICE_START=exec``), and
prints per service the seconds to ``/health/ready`` and to consuming
(:class:`kontor_local.runtime.Timings`), how long the zygote took to import the services'
code, and the 1-minute load average at the start and the end. Nothing else runs: no
orders, no bench. ``--early`` starts the zygote before the database and broker, as
``make run`` does; without it, after them, as ``make bench`` did up to 2026-12-03.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import httpx

from .bench import BENCH_SERVICES, _token, bench_settings, bench_specs
from .runtime import LocalSettings, Platform, registry_topic_specs


def _start_commands(url: str) -> dict[str, int]:
    """The database commands a service sent until now, by command (``/metrics``).

    Scraped twice: the second scrape's increase is what a scrape itself costs (the
    outbox gauges' counts), taken off the first.
    """
    first = _db_commands(url)
    second = _db_commands(url)
    started = {k: v - (second.get(k, 0.0) - v) for k, v in sorted(first.items())}
    return {k: round(v) for k, v in started.items() if v > 0}


def _db_commands(url: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    for line in httpx.get(f"{url}/metrics", timeout=5.0).text.splitlines():
        if line.startswith("kontor_db_commands_total{"):
            labels, _, value = line.partition("} ")
            command = labels.split('command="', 1)[1].split('"', 1)[0]
            totals[command] = totals.get(command, 0.0) + float(value)
    return totals


def measure(services: list[str], *, early: bool) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="kontor-start-"))
    settings = dataclasses.replace(
        bench_settings(tmp, services), service_start=LocalSettings.from_env().service_start
    )
    load_before = os.getloadavg()[0]
    specs = bench_specs(settings, services)
    try:
        with Platform(settings, log_dir=tmp / "logs") as platform:
            _, public_key = _token(settings.keys_dir)
            began = time.monotonic()
            if early:
                platform.prepare_services(specs)
            platform.start_infra(topics=registry_topic_specs())
            infra_done = time.monotonic()
            platform.start_services(specs, public_key)
            timings = platform.timings
            commands = {spec.name: _start_commands(spec.url) for spec in specs}
            return {
                "services": services,
                "early": early,
                "start": settings.service_start,
                "load_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                "infra_s": round(infra_done - began, 2),
                "code_import_s": round(timings.code_import_s or 0.0, 2),
                "waited_for_code_s": round(timings.waited_for_code_s or 0.0, 2),
                "ready_s": {k: round(v, 2) for k, v in timings.seconds.items()},
                "consuming_s": {k: round(v, 2) for k, v in timings.consuming.items()},
                "db_commands_at_start": commands,
            }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", default=",".join(BENCH_SERVICES))
    parser.add_argument("--early", action="store_true", help="zygote before the infra")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    services = [s for s in args.services.split(",") if s]
    for _ in range(args.repeat):
        print(json.dumps(measure(services, early=args.early)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
