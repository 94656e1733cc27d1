"""Start and idle (issue 17, "every service ready within 5 s; idle RSS per service printed").

Every process the runtime starts is its own process group (pgid = pid), so what one
component costs is the sum over the members of its group, read from Linux ``/proc``.
Memory is measured once the run has settled (every service below ``QUIET_CPU`` of a core
over ``WINDOW_S``, at most ``SETTLE_TIMEOUT_S``): RSS as ``ps`` shows it, and PSS, which
splits pages shared between processes (the services forked from one zygote share the
imported code) among them, so the PSS of all components adds up to what they use together.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kontor_local.runtime import Platform

READY_GOAL_S = 5.0
QUIET_CPU = 0.10
WINDOW_S = 1.0
SETTLE_TIMEOUT_S = 15.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PROC = Path("/proc")


def _stat_fields(pid: str) -> list[str] | None:
    """``/proc/PID/stat`` from field 3 (state) on: pgrp is [2], utime [11], stime [12]."""
    try:
        text = (PROC / pid / "stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def group_members(pgid: int) -> list[str]:
    """The pids (as /proc names) of every live process in process group ``pgid``."""
    if not PROC.is_dir():
        return []
    members = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(entry.name)
            if fields is not None and int(fields[2]) == pgid:
                members.append(entry.name)
    return members


def group_cpu_seconds(pgid: int) -> float | None:
    """User+system CPU seconds of every process in group ``pgid`` (Linux /proc)."""
    if not PROC.is_dir():
        return None
    ticks = 0
    for pid in group_members(pgid):
        fields = _stat_fields(pid)
        if fields is not None:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLOCK_TICKS


def _kib(path: Path, key: str) -> int:
    """The ``key:  N kB`` line of a /proc status-like file, 0 when absent or unreadable."""
    try:
        for line in path.read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


@dataclass
class ProcessMemory:
    rss_mb: float
    pss_mb: float
    processes: int


@dataclass
class IdleResult:
    settled_after_s: float
    cpu_share: dict[str, float]
    """Per component, the share of one core it used in the last window."""
    memory: dict[str, ProcessMemory] = field(default_factory=dict)


def _groups(platform: Platform) -> dict[str, int]:
    return {p.name: p.pid for p in platform.children() if p.pid is not None and p.alive()}


def memory_of(pgid: int) -> ProcessMemory:
    pids = group_members(pgid)
    rss = sum(_kib(PROC / pid / "status", "VmRSS") for pid in pids)
    pss = sum(_kib(PROC / pid / "smaps_rollup", "Pss") for pid in pids)
    return ProcessMemory(round(rss / 1024, 1), round(pss / 1024, 1), len(pids))


async def measure_idle(platform: Platform, services: tuple[str, ...]) -> IdleResult:
    """Wait until ``services`` are quiet, then every component's memory."""
    groups = _groups(platform)
    started = time.monotonic()
    share: dict[str, float] = {}
    while True:
        before = {name: group_cpu_seconds(pgid) or 0.0 for name, pgid in groups.items()}
        await asyncio.sleep(WINDOW_S)
        after = {name: group_cpu_seconds(pgid) or 0.0 for name, pgid in groups.items()}
        share = {name: round((after[name] - before[name]) / WINDOW_S, 3) for name in groups}
        quiet = all(share.get(name, 0.0) < QUIET_CPU for name in services)
        if quiet or time.monotonic() - started > SETTLE_TIMEOUT_S:
            break
    return IdleResult(
        settled_after_s=round(time.monotonic() - started, 1),
        cpu_share=share,
        memory={name: memory_of(pgid) for name, pgid in groups.items()},
    )


def start_lines(
    ready: Mapping[str, float], consuming: Mapping[str, float], services: tuple[str, ...]
) -> list[tuple[str, str]]:
    """Each service's start to ready and to consuming, against the goal."""

    def one(name: str) -> str:
        seconds = ready.get(name)
        if seconds is None:
            return f"{name} not ready"
        joined = consuming.get(name, seconds)
        verdict = "ok" if joined <= READY_GOAL_S else "OVER"
        return f"{name} {seconds:.2f} s (consuming {joined:.2f} s) {verdict}"

    return [(f"start to ready (goal {READY_GOAL_S:g} s)", ", ".join(one(n) for n in services))]


def code_import_lines(code_import: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The zygote's import of the services' code, and how much of it the start waited."""
    if not code_import:
        return []
    where = (
        "alongside the database and broker"
        if code_import.get("alongside_infra")
        else "after the database and broker"
    )
    return [
        (
            "    services' code imported (zygote)",
            f"{code_import['seconds']:.2f} s, {where}; the services waited "
            f"{code_import['waited_s']:.2f} s of it",
        )
    ]


def idle_lines(idle: IdleResult) -> list[tuple[str, str]]:
    by_pss = sorted(idle.memory.items(), key=lambda item: -item[1].pss_mb)
    return [
        (
            f"idle memory RSS / PSS (settled after {idle.settled_after_s:g} s)",
            ", ".join(f"{n} {m.rss_mb:,.0f} / {m.pss_mb:,.0f} MB" for n, m in by_pss),
        ),
        (
            "    idle CPU, share of a core",
            ", ".join(f"{n} {s:.0%}" for n, s in sorted(idle.cpu_share.items())),
        ),
    ]
