"""``kontor-local run`` prints how long each part took, and a real service starts in time.

The figure the README promises (every service ready within 5 s of the database and
broker) is measured with ``make run`` and written down in docs/adr/0010; here the
bound is generous enough for a loaded CI machine.
"""

from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from kontor_local.runtime import free_port

from .test_cli import cli_env, launch, wait_for_text

pytestmark = pytest.mark.integration

BOUND_S = 15.0


@pytest.fixture
def run_billing(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    env = cli_env(tmp_path, KONTOR_LOCAL_BILLING_PORT=str(free_port()))
    out = tmp_path / "out.txt"
    proc = launch(out, env, "run", "--service", "billing=kontor_billing")
    try:
        yield proc, out
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def seconds(line: str, name: str) -> float:
    match = re.search(rf"\b{name} (\d+\.\d+)s", line)
    assert match, f"no figure for {name} in {line!r}"
    return float(match.group(1))


def test_run_prints_when_each_part_was_ready_and_billing_starts_in_time(
    run_billing: tuple[subprocess.Popen[bytes], Path],
) -> None:
    proc, out = run_billing
    output = wait_for_text(out, proc, "Ctrl-C stops everything.", 90)
    ready = next(line for line in output.splitlines() if line.startswith("ready in: "))
    consuming = next(line for line in output.splitlines() if line.startswith("consuming in: "))
    for part in ("database", "broker", "topics"):
        assert seconds(ready, part) < BOUND_S
    billing_ready, billing_consuming = seconds(ready, "billing"), seconds(consuming, "billing")
    assert billing_ready <= billing_consuming < BOUND_S, output
    summary = next(line for line in output.splitlines() if line.startswith("services after"))
    assert f"every one ready in {billing_ready:.2f}s" in summary
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 0
