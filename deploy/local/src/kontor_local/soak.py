"""``make soak``: the order life at a steady rate while a runner SIGKILLs parts of it.

``python -m kontor_local.soak [--seconds 180] [--rate 2] [--kill-every 4:9] [--seed N]``

One run starts a fresh embedded runtime (the storage of ``make run``: the broker on
disk, SecantusDB with ``--sync-on-commit``) with catalog, orders and billing as
processes on free loopback ports. Then, for ``--seconds``:

- the shop places orders through ``POST /orders`` at ``--rate`` per second (one
  product is scarce, so some orders are rejected), and follows each accepted order
  through its life with the public APIs: confirmed or rejected (the catalog's
  reservation), shipped (``POST /orders/{id}/shipments``), delivered, and for every
  ``--return-every``-th a return received with its pieces restocked;
- the chaos runner SIGKILLs one of catalog, orders, billing, the broker, its object
  store or the database every few seconds (``--kill-every MIN:MAX``), and starts it
  again after a short pause.

Then everything still dead is started, the shop finishes the lives it began, the
run waits until the system is quiet and reconciles every count exactly, from the
services' APIs (not from what the shop believes): every order decided, every order
confirmed order invoiced exactly once and no rejected one (billing invoices on
OrderConfirmed), invoice numbers
gap-free and unique, order numbers unique, per product ``on hand = start - shipped +
restocked`` and ``reserved`` = what confirmed, unshipped orders hold, every accepted
POST visible, no dead letter, no failed or unsent outbox row. It prints a table and
exits 0 when everything holds, 1 otherwise. Bounded in time; loopback only.

The classes are used by the integration tests of issue 8 too: :class:`Cluster`
(the runtime with SIGKILL and restart per component), :class:`Shop` (the workload),
:func:`reconcile` (the checks).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from kontor_local.bench import _terminate_as_interrupt
from kontor_local.runtime import (
    LocalSettings,
    ManagedProcess,
    Platform,
    ServiceSpec,
    free_port,
    http_ready,
    registry_topic_specs,
    wait_until,
)

SOAK_SERVICES = ("catalog", "orders", "billing")
INFRA_TARGETS = ("broker", "objectstore", "database")
INVOICE_NUMBER = re.compile(r"^RE-(\d{4})-(\d{6})$")
ORDER_NUMBER = re.compile(r"^B-(\d{4})-(\d{6})$")
DECIDED = {
    "rejected",
    "cancelled",
    "confirmed",
    "paid",
    "partially_shipped",
    "shipped",
    "delivered",
    "partially_returned",
    "returned",
}
HOLDS_RESERVATION = {"confirmed", "paid", "partially_shipped"}

PLENTY = "SOAK-TEE"
SCARCE = "SOAK-MUG"
PRODUCTS = (
    {
        "sku": PLENTY,
        "name": "Soak T-Shirt",
        "price": {"net": "19.99", "currency": "EUR"},
        "vat_class": "standard",
        "stock": 100_000,
    },
    {
        "sku": SCARCE,
        "name": "Soak Tasse",
        "price": {"net": "8.00", "currency": "EUR"},
        "vat_class": "standard",
        "stock": 40,
    },
)
CUSTOMER = {"email": "soak@example.de", "name": "Sam Soak"}
ADDRESS = {
    "name": "Sam Soak",
    "street": "Hauptstr. 1",
    "postcode": "10115",
    "city": "Berlin",
    "country": "DE",
}


class SoakError(RuntimeError):
    """The run could not be carried out (not: a count did not reconcile)."""


# --------------------------------------------------------------------------- the runtime


class Cluster:
    """The embedded runtime on free ports; any part can be SIGKILLed and started again.

    Call every method from one thread, the one that started it: the children die with
    that thread (``PR_SET_PDEATHSIG``), as they die with ``kontor-local run``.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        services: Sequence[str] = SOAK_SERVICES,
        storage: str | None = None,
        service_env: dict[str, str] | None = None,
    ) -> None:
        from .tokens import mint_token, write_keypair

        configured = LocalSettings.from_env()
        self.settings = LocalSettings(
            data_dir=data_dir,
            broker_port=free_port(),
            mongo_port=free_port(),
            service_ports={name: free_port() for name in services},
            broker_storage="memory"
            if (storage or configured.broker_storage) == "memory"
            else "disk",
            s3_port=free_port(),
            broker_fsync=configured.broker_fsync,
            mongo_sync_on_commit=configured.mongo_sync_on_commit,
            ready_timeout=120.0,
        )
        private, public = write_keypair(self.settings.keys_dir)
        from kontor_servicekit.auth import all_scopes

        self.token = mint_token(private.read_text("ascii"), scopes=all_scopes())
        self.public_key = public
        env = {"KONTOR_LOG_LEVEL": "WARNING", **(service_env or {})}
        self.specs = [
            ServiceSpec(name, f"kontor_{name}", self.settings.service_ports[name], env=env)
            for name in services
        ]
        self.platform = Platform(self.settings)
        self.urls = {spec.name: spec.url for spec in self.specs}

    @property
    def targets(self) -> tuple[str, ...]:
        infra = INFRA_TARGETS if self.platform.s3 is not None else ("broker", "database")
        return (*(s.name for s in self.specs), *infra)

    def start(self) -> None:
        self.platform.prepare_services(self.specs)  # the services' code, while the infra starts
        self.platform.start_infra(registry_topic_specs())
        self.platform.start_services(self.specs, self.public_key)

    def process(self, target: str) -> ManagedProcess | None:
        if target == "broker":
            return self.platform.broker.process
        if target == "database":
            return self.platform.database.process
        if target == "objectstore":
            return self.platform.s3.process if self.platform.s3 else None
        return self.platform.services.get(target)

    def kill(self, target: str) -> None:
        """SIGKILL one part (its whole process group)."""
        process = self.process(target)
        if process is None:
            raise SoakError(f"nothing to kill: {target}")
        process.kill()

    def revive(self, target: str) -> float:
        """Start ``target`` again (same ports, same data); returns seconds to ready."""
        started = time.monotonic()
        if target == "broker":
            self.platform.broker.start()
        elif target == "database":
            self.platform.database.start()
        elif target == "objectstore":
            assert self.platform.s3 is not None
            self.platform.s3.start()
        else:
            process = self.platform.services[target]
            process.start()
            url = f"{self.urls[target]}/health/ready"
            wait_until(process, functools.partial(http_ready, url), 120.0, f"GET {url}", 0.2)
        return time.monotonic() - started

    def dead(self) -> list[str]:
        return [t for t in self.targets if (p := self.process(t)) is not None and not p.alive()]

    def revive_dead(self) -> list[str]:
        """Start whatever is not running (infrastructure first)."""
        dead = self.dead()
        order: list[str] = [t for t in ("database", "objectstore", "broker") if t in dead]
        order += [t for t in dead if t not in order]
        for target in order:
            self.revive(target)
        return order

    def kill_all(self) -> None:
        """SIGKILL everything at once, as a crash of the machine's runtime would."""
        for process in self.platform.children():
            with contextlib.suppress(Exception):
                process.kill()

    def restart_all(self) -> None:
        """A new runtime on the same ports and data (after :meth:`kill_all` or :meth:`stop`)."""
        self.platform.stop()
        self.platform = Platform(self.settings)
        self.start()

    def stop(self) -> None:
        self.platform.stop()


# --------------------------------------------------------------------------- the shop


@dataclass
class ShopStats:
    posted: int = 0
    accepted: int = 0
    not_accepted: Counter[str] = field(default_factory=Counter)
    ambiguous: int = 0
    lives_finished: int = 0
    lives_abandoned: Counter[str] = field(default_factory=Counter)
    shipped_by_client: int = 0
    returns_by_client: int = 0
    http_errors: Counter[str] = field(default_factory=Counter)


class Gone(Exception):
    """A step cannot go on (its deadline passed, or the answer says it never will)."""


class Shop:
    """Orders through the public HTTP APIs, each followed through its life."""

    def __init__(
        self,
        urls: dict[str, str],
        token: str,
        *,
        step_timeout: float = 180.0,
        return_every: int = 4,
        seed: int = 0,
    ) -> None:
        self.urls = urls
        self.headers = {"Authorization": f"Bearer {token}"}
        self.step_timeout = step_timeout
        self.return_every = return_every
        self.random = random.Random(seed)
        self.stats = ShopStats()
        self.accepted: list[str] = []
        self.stock_at_start: dict[str, int] = {}
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._lives: list[asyncio.Task[None]] = []

    def client(self, service: str) -> httpx.AsyncClient:
        if service not in self._clients:
            self._clients[service] = httpx.AsyncClient(
                base_url=self.urls[service], headers=self.headers, timeout=10.0
            )
        return self._clients[service]

    async def close(self) -> None:
        for task in self._lives:
            task.cancel()
        await asyncio.gather(*self._lives, return_exceptions=True)
        for client in self._clients.values():
            await client.aclose()

    async def call(
        self, service: str, method: str, path: str, *, body: Any = None, params: Any = None
    ) -> httpx.Response:
        """One request, retried while the request cannot have reached the service
        (connection refused, or 503 with Retry-After). A request that may have been
        handled (timeout, connection lost on the way back) raises :class:`Gone`."""
        deadline = time.monotonic() + self.step_timeout
        while True:
            try:
                response = await self.client(service).request(
                    method, path, json=body, params=params
                )
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                self.stats.http_errors[f"{service} {type(exc).__name__}"] += 1
            except httpx.TransportError as exc:
                self.stats.http_errors[f"{service} {type(exc).__name__}"] += 1
                if method != "GET":  # reading twice is harmless, writing maybe not
                    raise Gone(
                        f"{method} {path}: {type(exc).__name__} (may have happened)"
                    ) from exc
            else:
                if response.status_code not in (502, 503, 504):
                    return response
                self.stats.http_errors[f"{service} {response.status_code}"] += 1
                if method != "GET" and response.status_code != 503:
                    raise Gone(f"{method} {path}: {response.status_code}")
            if time.monotonic() > deadline:
                raise Gone(f"{method} {path}: {service} did not answer in time")
            await asyncio.sleep(0.5)

    # ----------------------------------------------------------------- set-up

    async def set_up(self) -> None:
        for product in PRODUCTS:
            response = await self.call("catalog", "POST", "/products", body=product)
            if response.status_code not in (201, 409):
                raise SoakError(f"POST /products: {response.status_code} {response.text[:200]}")
        for sku in (PLENTY, SCARCE):
            self.stock_at_start[sku] = (await self.stock(sku))["on_hand"]
        # The orders service knows the products once ProductCreated arrived, each in its
        # own time: a cart line prices an article now (422 while it is unknown) and books
        # nothing, so every product is asked for before the first order.
        deadline = time.monotonic() + 60
        cart_id: str | None = None
        while time.monotonic() < deadline:
            if cart_id is None:
                cart = await self.call("orders", "POST", "/carts", body={})
                if cart.status_code == 201:
                    cart_id = str(cart.json()["id"])
            if cart_id is not None and await self._orders_know_every_product(cart_id):
                probe = await self.call(
                    "orders", "POST", "/orders", body=self.order_body(PLENTY, 1)
                )
                if probe.status_code == 201:
                    self.accepted.append(probe.json()["id"])
                    self._lives.append(asyncio.create_task(self.life(probe.json()["id"], 0)))
                    return
            await asyncio.sleep(0.3)
        raise SoakError("the orders service did not learn the products in 60 s")

    async def _orders_know_every_product(self, cart_id: str) -> bool:
        for product in PRODUCTS:
            line = await self.call(
                "orders", "PUT", f"/carts/{cart_id}/lines/{product['sku']}", body={"quantity": 1}
            )
            if line.status_code != 200:
                return False
        return True

    async def stock(self, sku: str) -> dict[str, int]:
        response = await self.call("catalog", "GET", f"/stock/{sku}")
        if response.status_code != 200:
            raise SoakError(f"GET /stock/{sku}: {response.status_code} {response.text[:200]}")
        body = response.json()
        total = body.get("total", body)
        return {k: int(total[k]) for k in ("on_hand", "reserved", "available")}

    @staticmethod
    def order_body(sku: str, quantity: int) -> dict[str, Any]:
        return {
            "customer": CUSTOMER,
            "shipping_address": ADDRESS,
            "lines": [{"sku": sku, "quantity": quantity}],
        }

    # ----------------------------------------------------------------- the flow

    async def place_one(self, index: int) -> str | None:
        sku = SCARCE if index % 5 == 0 else PLENTY
        body = self.order_body(sku, 1 + index % 3)
        self.stats.posted += 1
        try:
            response = await self.call("orders", "POST", "/orders", body=body)
        except Gone:
            self.stats.ambiguous += 1
            return None
        if response.status_code != 201:
            self.stats.not_accepted[f"{response.status_code}"] += 1
            return None
        order_id = str(response.json()["id"])
        self.stats.accepted += 1
        self.accepted.append(order_id)
        return order_id

    async def run(self, seconds: float, rate: float, stop: threading.Event | None = None) -> None:
        """Place orders at ``rate`` per second for ``seconds``; each gets its life."""
        started = time.monotonic()
        index = 1
        while time.monotonic() - started < seconds and not (stop and stop.is_set()):
            due = started + index / rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            self._lives.append(asyncio.create_task(self._place_and_live(index)))
            index += 1

    async def place(self, count: int, concurrency: int) -> list[str]:
        """``count`` orders from ``concurrency`` clients as fast as accepted (no lives)."""
        queue = list(range(1, count + 1))
        placed: list[str] = []

        async def worker() -> None:
            while queue:
                order_id = await self.place_one(queue.pop(0))
                if order_id is not None:
                    placed.append(order_id)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return placed

    def follow(self, order_ids: Sequence[str]) -> None:
        for n, order_id in enumerate(order_ids, start=1):
            self._lives.append(asyncio.create_task(self.life(order_id, n)))

    async def finish(self, timeout: float) -> None:
        """Wait for every life begun (each bounded by its steps' deadlines)."""
        pending = [t for t in self._lives if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=timeout)

    async def _place_and_live(self, index: int) -> None:
        order_id = await self.place_one(index)
        if order_id is not None:
            await self.life(order_id, index)

    async def life(self, order_id: str, index: int) -> None:
        try:
            order = await self.wait_decided(order_id)
            if order["status"] == "confirmed":
                await self.ship(order)
                await self.deliver(order_id)
                if self.return_every and index % self.return_every == 0:
                    await self.return_and_restock(order)
            self.stats.lives_finished += 1
        except Gone as exc:
            self.stats.lives_abandoned[str(exc).split(":")[0]] += 1

    async def order(self, order_id: str) -> dict[str, Any]:
        response = await self.call("orders", "GET", f"/orders/{order_id}")
        if response.status_code != 200:
            raise Gone(f"GET /orders/{{id}}: {response.status_code}")
        result: dict[str, Any] = response.json()
        return result

    async def wait_decided(self, order_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.step_timeout
        while time.monotonic() < deadline:
            order = await self.order(order_id)
            if order["status"] != "placed":
                return order
            await asyncio.sleep(0.5)
        raise Gone("decision: not confirmed or rejected in time")

    async def ship(self, order: dict[str, Any]) -> None:
        lines = [{"line_no": x["line_no"], "quantity": x["quantity"]} for x in order["lines"]]
        body = {"carrier": "DHL", "tracking_number": f"JJD{order['number'][-6:]}", "lines": lines}
        response = await self.call("orders", "POST", f"/orders/{order['id']}/shipments", body=body)
        if response.status_code != 201:
            raise Gone(f"shipment: {response.status_code}")
        self.stats.shipped_by_client += 1

    async def deliver(self, order_id: str) -> None:
        response = await self.call("orders", "POST", f"/orders/{order_id}/delivery", body={})
        if response.status_code != 200:
            raise Gone(f"delivery: {response.status_code}")

    async def return_and_restock(self, order: dict[str, Any]) -> None:
        line = order["lines"][0]
        body = {
            "order_id": order["id"],
            "kind": "goodwill",
            "lines": [{"line_no": line["line_no"], "quantity": 1, "reason": "soak"}],
        }
        created = await self.call("orders", "POST", "/returns", body=body)
        if created.status_code != 201:
            raise Gone(f"return: {created.status_code}")
        return_id = created.json()["id"]
        receipt = {
            "lines": [
                {
                    "line_no": line["line_no"],
                    "quantity": 1,
                    "condition": "as_new",
                    "disposition": "restock",
                }
            ]
        }
        received = await self.call("orders", "POST", f"/returns/{return_id}/receipt", body=receipt)
        if received.status_code not in (200, 201):
            raise Gone(f"receipt: {received.status_code}")
        self.stats.returns_by_client += 1


# --------------------------------------------------------------------------- reconciling


@dataclass
class Check:
    name: str
    expected: str
    found: str
    ok: bool


@dataclass
class Reconciliation:
    checks: list[Check]
    counts: dict[str, Any]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


def _numbers(values: Sequence[str], pattern: re.Pattern[str]) -> dict[str, list[int]]:
    by_year: dict[str, list[int]] = {}
    for value in values:
        match = pattern.fullmatch(value)
        by_year.setdefault(match[1] if match else "invalid", []).append(
            int(match[2]) if match else -1
        )
    return by_year


async def _all_pages(shop: Shop, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        response = await shop.call(
            "orders", "GET", path, params={**params, "page": page, "page_size": 200}
        )
        if response.status_code != 200:
            raise SoakError(f"GET {path}: {response.status_code} {response.text[:200]}")
        body = response.json()
        batch = body["items"] if isinstance(body, dict) else body
        items += batch
        if len(batch) < 200:
            return items
        page += 1


async def _metric(shop: Shop, service: str, name: str) -> float:
    text = (await shop.call(service, "GET", "/metrics")).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            with contextlib.suppress(ValueError):
                total += float(line.rsplit(" ", 1)[1])
    return total


async def reconcile(shop: Shop, services: Sequence[str] = SOAK_SERVICES) -> Reconciliation:
    """Every count from the services' APIs, checked exactly (see the module docstring)."""
    summaries = await _all_pages(shop, "/orders", {})
    orders = [await shop.order(s["id"]) for s in summaries]
    by_status = Counter(o["status"] for o in orders)
    ids = {o["id"] for o in orders}
    invoices: dict[str, list[dict[str, Any]]] = {}
    for order in orders:
        response = await shop.call("billing", "GET", "/invoices", params={"order_id": order["id"]})
        invoices[order["id"]] = response.json()["items"] if response.status_code == 200 else []
    # billing invoices on OrderConfirmed: every order orders accepted once, none rejected
    per_order = Counter((o["status"] == "rejected", len(invoices[o["id"]])) for o in orders)
    numbers = [str(i["number"]) for v in invoices.values() for i in v]
    invoice_years = _numbers(numbers, INVOICE_NUMBER)
    order_numbers = [str(o["number"]) for o in orders]

    returns = await _all_pages(shop, "/returns", {})
    restocked: Counter[str] = Counter()
    for ret in returns:
        if ret["status"] in ("partially_received", "received", "completed"):
            for line in ret["inspected"]:
                if line["disposition"] == "restock":
                    restocked[line["sku"]] += int(line["quantity"])
    shipped: Counter[str] = Counter()
    reserved: Counter[str] = Counter()
    for order in orders:
        sku_of = {x["line_no"]: x["sku"] for x in order["lines"]}
        out: Counter[int] = Counter()
        for shipment in order["shipments"]:
            for line in shipment["lines"]:
                shipped[sku_of[line["line_no"]]] += int(line["quantity"])
                out[line["line_no"]] += int(line["quantity"])
        if order["status"] in HOLDS_RESERVATION:
            for x in order["lines"]:
                reserved[x["sku"]] += int(x["quantity"]) - out[x["line_no"]]

    checks = [
        Check(
            "orders decided (confirmed or rejected)",
            f"{len(orders)}",
            f"{sum(n for s, n in by_status.items() if s in DECIDED)} "
            f"({by_status.get('placed', 0)} still placed)",
            by_status.get("placed", 0) == 0,
        ),
        Check(
            "accepted POSTs visible in GET /orders",
            f"{len(shop.accepted)}",
            f"{len(ids & set(shop.accepted))}",
            set(shop.accepted) <= ids,
        ),
        Check(
            "invoices: one per confirmed order, none per rejected one",
            f"{len(orders) - by_status.get('rejected', 0)} x 1, {by_status.get('rejected', 0)} x 0",
            ", ".join(
                f"{n} {'rejected' if rejected else 'accepted'} order(s) with {k}"
                for (rejected, k), n in sorted(per_order.items())
            ),
            set(per_order) <= {(False, 1), (True, 0)},
        ),
        Check(
            "invoice numbers gap-free and unique",
            "1..n per year",
            "; ".join(
                f"{year}: {len(v)} numbers, {min(v)}..{max(v)}, {len(v) - len(set(v))} twice"
                for year, v in invoice_years.items()
            )
            or "none",
            all(sorted(v) == list(range(1, len(v) + 1)) for v in invoice_years.values()),
        ),
        Check(
            "order numbers unique (gaps allowed: per-process blocks)",
            f"{len(order_numbers)} distinct",
            f"{len(set(order_numbers))} distinct",
            len(set(order_numbers)) == len(order_numbers),
        ),
    ]
    for sku, start in shop.stock_at_start.items():
        stock = await shop.stock(sku)
        expected = start - shipped[sku] + restocked[sku]
        checks.append(
            Check(
                f"{sku} on hand = start - shipped + restocked",
                f"{start} - {shipped[sku]} + {restocked[sku]} = {expected}",
                f"{stock['on_hand']}",
                stock["on_hand"] == expected,
            )
        )
        checks.append(
            Check(
                f"{sku} reserved = confirmed, unshipped pieces",
                f"{reserved[sku]}",
                f"{stock['reserved']}",
                stock["reserved"] == reserved[sku],
            )
        )
    parked: dict[str, int] = {}
    failed: dict[str, int] = {}
    backlog: dict[str, float] = {}
    for service in services:
        dl = await shop.call(service, "GET", "/admin/dead-letters")
        parked[service] = int(dl.json()["total"]) if dl.status_code == 200 else -1
        fl = await shop.call(service, "GET", "/admin/outbox/failures")
        failed[service] = int(fl.json()["total"]) if fl.status_code == 200 else -1
        backlog[service] = await _metric(shop, service, "kontor_outbox_backlog")
    checks += [
        Check(
            "dead letters (messages parked, not handled)",
            "0",
            ", ".join(f"{s} {n}" for s, n in parked.items()),
            all(n == 0 for n in parked.values()),
        ),
        Check(
            "outbox rows failed / not yet sent",
            "0 / 0",
            ", ".join(f"{s} {failed[s]}/{backlog[s]:.0f}" for s in services),
            all(n == 0 for n in failed.values()) and all(n == 0 for n in backlog.values()),
        ),
    ]
    counts = {
        "orders": len(orders),
        "by_status": dict(by_status),
        "invoices": len(numbers),
        "shipped_pieces": dict(shipped),
        "restocked_pieces": dict(restocked),
        "returns": len(returns),
        "returns_completed": sum(1 for r in returns if r["status"] == "completed"),
        "order_number_gaps": sum(
            max(v) - min(v) + 1 - len(set(v))
            for v in _numbers(order_numbers, ORDER_NUMBER).values()
        ),
    }
    return Reconciliation(checks, counts)


async def settle(
    shop: Shop, timeout: float, services: Sequence[str] = SOAK_SERVICES
) -> Reconciliation:
    """Reconcile until every check holds or ``timeout`` passed; the last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = await reconcile(shop, services)
        if result.ok or time.monotonic() > deadline:
            return result
        await asyncio.sleep(2.0)


# --------------------------------------------------------------------------- the run


@dataclass
class Kill:
    at_s: float
    target: str
    down_s: float
    ready_s: float


@dataclass
class SoakReport:
    seconds: float
    rate: float
    seed: int
    storage: str
    kills: list[Kill]
    shop: dict[str, Any]
    reconciliation: Reconciliation
    settle_seconds: float
    total_seconds: float

    def to_dict(self) -> dict[str, Any]:
        plain: dict[str, Any] = _json_keys(asdict(self))
        return plain


def _json_keys(value: Any) -> Any:
    """``value`` with every mapping key a string (JSON has no tuple keys)."""
    if isinstance(value, dict):
        return {
            (" ".join(map(str, k)) if isinstance(k, tuple) else k): _json_keys(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_json_keys(v) for v in value]
    return value


class Chaos:
    """SIGKILL a random part every MIN..MAX seconds, start it again after a pause."""

    def __init__(
        self,
        cluster: Cluster,
        every: tuple[float, float],
        pause: tuple[float, float] = (0.5, 3.0),
        seed: int = 0,
        log: Any = None,
    ) -> None:
        self.cluster = cluster
        self.every = every
        self.pause = pause
        self.random = random.Random(seed)
        self.kills: list[Kill] = []
        self.say = log or (lambda _m: None)

    def run(self, seconds: float, stop: threading.Event) -> None:
        started = time.monotonic()
        while not stop.is_set():
            wait = self.random.uniform(*self.every)
            if time.monotonic() - started + wait > seconds or stop.wait(wait):
                return
            target = self.random.choice(self.cluster.targets)
            at = time.monotonic() - started
            self.cluster.kill(target)
            down = self.random.uniform(*self.pause)
            time.sleep(down)
            ready = self.cluster.revive(target)
            revived = self.cluster.revive_dead()  # e.g. a service that exited by itself
            self.kills.append(Kill(round(at, 1), target, round(down, 2), round(ready, 2)))
            extra = f" (also started: {', '.join(revived)})" if revived else ""
            self.say(f"soak: {at:6.1f}s SIGKILL {target}, up again in {down + ready:.1f}s{extra}")


def run_soak(
    seconds: float = 180.0,
    rate: float = 2.0,
    kill_every: tuple[float, float] = (4.0, 9.0),
    *,
    seed: int | None = None,
    return_every: int = 4,
    settle_timeout: float = 240.0,
    work_dir: Path | None = None,
    log: Any = None,
) -> SoakReport:
    say = log or (lambda message: print(message, file=sys.stderr, flush=True))
    seed = random.randrange(1 << 30) if seed is None else seed
    run_started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="kontor-soak-", dir=work_dir))
    ok = False
    cluster = Cluster(tmp)
    try:
        with _terminate_as_interrupt():
            say(f"soak: work dir {tmp}, seed {seed}; starting the runtime")
            cluster.start()
            shop = Shop(cluster.urls, cluster.token, return_every=return_every, seed=seed)
            chaos = Chaos(cluster, kill_every, seed=seed, log=say)
            stop = threading.Event()
            chaos_done = threading.Event()
            outcome: dict[str, Any] = {}

            async def workload() -> None:
                try:
                    await shop.set_up()
                    outcome["set_up"] = True
                    await shop.run(seconds, rate, stop)
                    outcome["placing_done"] = True
                    await asyncio.to_thread(chaos_done.wait)
                    await shop.finish(timeout=shop.step_timeout * 4)
                    started = time.monotonic()
                    outcome["result"] = await settle(shop, settle_timeout)
                    outcome["settle_s"] = time.monotonic() - started
                    outcome["stats"] = asdict(shop.stats)
                except BaseException as exc:
                    outcome["error"] = exc
                finally:
                    await shop.close()

            thread = threading.Thread(target=lambda: asyncio.run(workload()), name="soak-shop")
            thread.start()
            try:
                deadline = time.monotonic() + 90
                while "set_up" not in outcome and "error" not in outcome:
                    if time.monotonic() > deadline:
                        raise SoakError("set-up did not finish in 90 s")
                    time.sleep(0.2)
                if "error" not in outcome:
                    say(
                        f"soak: {seconds:.0f} s at {rate}/s, a SIGKILL every "
                        f"{kill_every[0]:.0f}-{kill_every[1]:.0f} s"
                    )
                    chaos.run(seconds, stop)
                    revived = cluster.revive_dead()
                    if revived:
                        say(f"soak: started again at the end: {', '.join(revived)}")
                say("soak: chaos over; finishing the orders' lives and reconciling")
            finally:
                chaos_done.set()
                stop.set()
                while thread.is_alive():
                    thread.join(1.0)
                    if cluster.dead():  # keep the runtime whole while the shop finishes
                        cluster.revive_dead()
            if "error" in outcome:
                raise SoakError(f"the workload failed: {outcome['error']!r}") from outcome["error"]
            report = SoakReport(
                seconds=seconds,
                rate=rate,
                seed=seed,
                storage=cluster.settings.broker_storage,
                kills=chaos.kills,
                shop=outcome["stats"],
                reconciliation=outcome["result"],
                settle_seconds=round(outcome["settle_s"], 1),
                total_seconds=round(time.monotonic() - run_started, 1),
            )
            ok = report.reconciliation.ok
            return report
    finally:
        cluster.stop()
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            say(f"soak: logs kept in {tmp / 'logs'}")


def format_report(report: SoakReport) -> str:
    r = report.reconciliation
    kills = Counter(k.target for k in report.kills)
    downtime = sum(k.down_s + k.ready_s for k in report.kills)
    s = report.shop
    lines = [
        f"Kontor soak: {report.seconds:.0f} s at {report.rate}/s, broker storage "
        f"{report.storage}, seed {report.seed}",
        f"SIGKILLs: {len(report.kills)} ("
        + ", ".join(f"{t} {n}" for t, n in sorted(kills.items()))
        + f"), {downtime:.0f} s down in total",
        f"shop: {s['posted']} POST /orders, {s['accepted']} accepted, "
        f"{sum(s['not_accepted'].values())} refused {dict(s['not_accepted'])}, "
        f"{s['ambiguous']} without an answer; {s['lives_finished']} lives finished, "
        f"abandoned {dict(s['lives_abandoned'])}",
        f"counts: {json.dumps(r.counts, sort_keys=True)}",
        f"settled {report.settle_seconds} s after the chaos; whole run {report.total_seconds} s",
    ]
    rows = [("check", "expected", "found", "")] + [
        (c.name, c.expected, c.found, "ok" if c.ok else "FAIL") for c in r.checks
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    table = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    table.insert(1, "  ".join("-" * w for w in widths))
    verdict = "every count reconciles" if r.ok else f"{len(r.failed())} check(s) FAILED"
    return "\n".join([*lines, "", *table, "", verdict])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kontor_local.soak",
        description="The order life at a steady rate while parts of the runtime are SIGKILLed.",
    )
    parser.add_argument("--seconds", type=float, default=180.0, help="chaos time (180)")
    parser.add_argument("--rate", type=float, default=2.0, help="orders per second (2)")
    parser.add_argument(
        "--kill-every", default="4:9", help="seconds between two SIGKILLs, MIN:MAX (4:9)"
    )
    parser.add_argument("--return-every", type=int, default=4, help="every n-th order returned")
    parser.add_argument("--seed", type=int, default=None, help="random seed (printed)")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    low, _, high = args.kill_every.partition(":")
    every = (float(low), float(high or low))
    try:
        report = run_soak(
            args.seconds, args.rate, every, seed=args.seed, return_every=args.return_every
        )
    except KeyboardInterrupt:
        print("soak: interrupted; everything stopped", file=sys.stderr)
        return 130
    except (SoakError, RuntimeError) as exc:
        print(f"soak: {exc}", file=sys.stderr)
        return 1
    print(format_report(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report.to_dict(), indent=2, default=str) + "\n", "utf-8")
    return 0 if report.reconciliation.ok else 1


if __name__ == "__main__":
    sys.exit(main())
