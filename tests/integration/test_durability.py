"""Issue 8: what was accepted reaches every effect, across a stop and across SIGKILL.

The embedded runtime as ``make run`` has it (broker log on disk, SecantusDB with
``--sync-on-commit``), catalog, orders and billing as processes, orders through the
public HTTP API (``kontor_local.soak.Shop``). After the disturbance the runtime is
started again with the same data and every count is reconciled from the services'
APIs (``kontor_local.soak.reconcile``): every order confirmed or rejected, every
order invoiced exactly once with gap-free numbers, per product ``on hand = start -
shipped + restocked`` and ``reserved`` = confirmed unshipped pieces, no dead letter,
no failed or unsent outbox row, every accepted POST visible.

- Ctrl-C right after the last order was accepted, then ``run`` again (the user's
  measurement in the issue: 34 of 100 orders stayed ``placed`` with ``memory``);
- SIGKILL of the whole runtime (``kontor-local run`` and so every child) while
  orders flow;
- SIGKILL of one service, of the broker, of its object store and of the database
  while orders flow, each started again after a second.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kontor_local.runtime import free_port, port_is_free
from kontor_local.soak import SOAK_SERVICES, Cluster, Reconciliation, Shop, settle
from kontor_local.tokens import mint_token, write_keypair
from kontor_servicekit.auth import all_scopes

pytestmark = pytest.mark.integration

SETTLE_S = 150.0  # a service killed inside a transaction holds its documents 60 s


def explain(result: Reconciliation) -> str:
    return "\n".join(f"{c.name}: expected {c.expected}, found {c.found}" for c in result.failed())


# --------------------------------------------------------------------------- the CLI


class Runtime:
    """``kontor-local run`` with catalog, orders and billing, as a user starts it."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.ports = {name: free_port() for name in SOAK_SERVICES}
        self.env = dict(os.environ)
        self.env.update(
            KONTOR_LOCAL_DATA_DIR=str(data_dir),
            KONTOR_LOCAL_BROKER_PORT=str(free_port()),
            KONTOR_LOCAL_MONGO_PORT=str(free_port()),
            KONTOR_LOCAL_S3_PORT=str(free_port()),
            # the fixed mail ports of make run (1025, 2525) would collide between workers
            KONTOR_LOCAL_MAIL_SINK_PORT=str(free_port()),
            KONTOR_LOCAL_SUPPORT_SMTP_PORT=str(free_port()),
            KONTOR_LOCAL_READY_TIMEOUT="120",
            KONTOR_LOG_LEVEL="WARNING",
            **{f"KONTOR_LOCAL_{n.upper()}_PORT": str(p) for n, p in self.ports.items()},
        )
        private, _ = write_keypair(data_dir / "keys")
        self.token = mint_token(private.read_text("ascii"), scopes=all_scopes())
        self.urls = {n: f"http://127.0.0.1:{p}" for n, p in self.ports.items()}
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        out = self.data_dir / f"run-{self.starts}.txt"
        argv = [sys.executable, "-m", "kontor_local.cli", "run"]
        for name in SOAK_SERVICES:
            argv += ["--service", f"{name}=kontor_{name}"]
        with out.open("wb") as sink:
            self.proc = subprocess.Popen(argv, env=self.env, stdout=sink, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while "Ctrl-C stops everything." not in out.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"run did not start:\n{out.read_text(errors='replace')}")
            time.sleep(0.2)

    def signal(self, signum: int) -> int:
        assert self.proc is not None
        self.proc.send_signal(signum)
        return self.proc.wait(60)

    def ports_free(self) -> bool:
        ports = [
            int(self.env[k])
            for k in self.env
            if k.startswith("KONTOR_LOCAL_") and k.endswith("_PORT")
        ]
        return all(port_is_free(p) for p in ports)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    started = Runtime(tmp_path)
    yield started
    started.stop()


@pytest.mark.timeout(420)
async def test_ctrl_c_right_after_the_last_order_then_run_again_loses_nothing(
    runtime: Runtime,
) -> None:
    runtime.start()
    shop = Shop(runtime.urls, runtime.token)
    try:
        await shop.set_up()
        placed = await shop.place(40, 8)
        assert len(placed) == 40
        assert runtime.signal(signal.SIGINT) == 0  # Ctrl-C at once
        assert runtime.ports_free()
        runtime.start()  # same data dir
        shop.follow(placed)  # ship, deliver, return some: the life goes on
        await shop.finish(SETTLE_S)
        result = await settle(shop, SETTLE_S)
    finally:
        await shop.close()
    assert result.ok, explain(result)
    assert result.counts["orders"] == 41  # the set-up order too
    # billing invoices every confirmed order (none was rejected: stock suffices here)
    rejected = result.counts["by_status"].get("rejected", 0)
    assert result.counts["invoices"] == 41 - rejected


@pytest.mark.timeout(420)
async def test_sigkill_of_the_whole_runtime_while_orders_flow_loses_nothing(
    runtime: Runtime,
) -> None:
    runtime.start()
    shop = Shop(runtime.urls, runtime.token, seed=2)
    try:
        await shop.set_up()
        flow = asyncio.create_task(shop.run(seconds=8.0, rate=5.0))
        await asyncio.sleep(3.0)
        assert runtime.signal(signal.SIGKILL) == -signal.SIGKILL
        # Every child dies with it (PR_SET_PDEATHSIG): nothing is left on the ports.
        deadline = time.monotonic() + 15
        while not runtime.ports_free():
            assert time.monotonic() < deadline, "children outlived the SIGKILLed runtime"
            await asyncio.sleep(0.2)
        await asyncio.to_thread(runtime.start)  # the shop keeps trying meanwhile
        await flow
        await shop.finish(SETTLE_S)
        result = await settle(shop, SETTLE_S)
    finally:
        await shop.close()
    assert result.ok, explain(result)
    assert shop.stats.accepted >= 20


# --------------------------------------------------------------------------- one part


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    started = Cluster(tmp_path)
    yield started
    started.stop()


@pytest.mark.timeout(420)
@pytest.mark.parametrize("target", ["orders", "billing", "broker", "objectstore", "database"])
async def test_sigkill_of_one_part_while_orders_flow_loses_nothing(
    cluster: Cluster, target: str
) -> None:
    cluster.start()
    shop = Shop(cluster.urls, cluster.token, seed=1)
    try:
        await shop.set_up()
        flow = asyncio.create_task(shop.run(seconds=8.0, rate=5.0))
        await asyncio.sleep(3.0)
        cluster.kill(target)  # SIGKILL in the middle of the stream
        await asyncio.sleep(1.0)
        cluster.revive(target)
        await flow
        await shop.finish(SETTLE_S)
        result = await settle(shop, SETTLE_S)
    finally:
        await shop.close()
    assert result.ok, explain(result)
    # enough orders went through the kill: counted as stored, since a POST that timed out
    # while the part was down (ambiguous) may have landed, and reconciles either way
    assert result.counts["orders"] >= 20, shop.stats
    assert result.counts["orders"] >= shop.stats.accepted
