"""(e) of ``make bench``: the storefront flow (issue 17, "the same 7-step flow a shop's
frontend runs (cart, lines, address, shipping, checkout, order, payment) measured the same
way, side by side with the Medusa peer").

The peer (``../shared/peers/medusa/``) sends 7 requests per order: create cart, add line
item, set address, add shipping method, create payment collection, create payment
session, complete. Kontor's routes for the same steps:

1. cart      ``POST /carts``                               (orders)
2. lines     ``PUT /carts/{id}/lines/{sku}``               (orders)
3. address   no route of its own: the address travels in the order (step 6)
4. shipping  ``GET /shipping-methods/{id}/quote``          (catalog: the charge shown)
5. checkout  ``POST /carts/{id}/checkout``                 (orders: prices fixed)
6. order     ``POST /orders`` with ``cart_id``, address, ``shipping_method``
7. payment   ``POST /webhooks/stripe``, the card provider's signed
             ``payment_intent.succeeded`` for the order     (billing: the money taken)

so 6 requests; the bench plays the provider for step 7, signing as Stripe signs (the
billing it starts has a webhook secret). A payment reported before OrderPlaced has
reached billing is held and booked when it arrives (ADR 0148): the answer says which
(``held`` / ``booked``, counted), and at the end no payment may still be held.
Until 2026-12-04 step 7 was ``POST /payments`` by hand, repeated on 404 until billing
knew the order (1,450 repeats for 200 flows).

As the peer measures: C closed-loop clients, N flows, a flow's latency from sending step
1 to the answer of step 7, per step p50/p99, flows/s from the first request to the last
flow completed. As (a) measures: the flow's POST cart -> invoice readable (its
InvoiceIssued on the topic), and every invoice found once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from kontor_local.bench import (
    BENCH_STRIPE_SECRET,
    BenchError,
    Flow,
    Latency,
    problem_title,
    watching,
)
from kontor_local.runtime import Platform

STEPS = ("cart", "lines", "shipping", "checkout", "order", "payment")
NOT_A_REQUEST = ("address",)
SHIPPING_METHOD = {
    # the peer's flat 4.90 EUR gross (4.12 net + 19 %) to Germany
    "id": "bench-flat",
    "name": "Paket (bench)",
    "carrier": "DHL",
    "basis": "weight",
    "zones": [{"zone_id": "de", "name": "Deutschland", "countries": ["DE"]}],
    "rates": [{"zone_id": "de", "price_net": "4.12"}],
    "currency": "EUR",
    "vat_rate": "0.19",
}
STOREFRONT_WARMUP = 2


def stripe_signed(event: dict[str, Any], secret: str = BENCH_STRIPE_SECRET) -> tuple[bytes, str]:
    """The body and ``Stripe-Signature`` header Stripe sends: ``t=<unix>,v1=<HMAC-SHA256
    of "t.body">`` (what ``stripe.Webhook.construct_event`` verifies)."""
    body = json.dumps(event).encode()
    stamp = int(time.time())
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={stamp},v1={mac}"


def intent_succeeded(order: dict[str, Any]) -> dict[str, Any]:
    """The provider's event for the order's card payment (amount in cents)."""
    cents = int(Decimal(str(order["gross_total"])) * 100)
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": f"pi_{uuid.uuid4().hex}",
                "object": "payment_intent",
                "amount_received": cents,
                "currency": str(order["currency"]).lower(),
                "payment_method_types": ["card"],
                "metadata": {"order_id": str(order["id"])},
            }
        },
    }


@dataclass
class StorefrontResult:
    flows: int
    concurrency: int
    requests_per_flow: int
    steps_without_a_route: list[str]
    completed: int
    failures: dict[str, int]
    seconds: float
    flows_per_s: float
    flow_latency: Latency
    step_latency: dict[str, Latency]
    payments_held: int
    """Reported before billing knew the order (held, booked when OrderPlaced came)."""
    held_at_the_end: int
    """Payments still held once every invoice was there: must be 0."""
    latency_to_invoice: Latency
    invoices_found_once: int
    step_routes: dict[str, str] = field(default_factory=dict)


@dataclass
class _Done:
    order_id: str
    started: float
    finished: float


class Storefront:
    """The frontend's requests of one flow, over keep-alive clients of a closed-loop client."""

    def __init__(self, flow: Flow, sku: str, order: dict[str, Any]) -> None:
        self.flow = flow
        self.sku = sku
        self.order = order
        self.step_seconds: dict[str, list[float]] = {step: [] for step in STEPS}
        self.failures: dict[str, int] = {}
        self.payments_held = 0

    async def create_shipping_method(self) -> None:
        async with self.flow.client("catalog") as catalog:
            response = await catalog.post("/shipping-methods", json=SHIPPING_METHOD)
        if response.status_code != 201:
            raise BenchError(
                f"POST /shipping-methods: {response.status_code} {response.text[:300]}"
            )

    def _fail(self, step: str, response: httpx.Response) -> None:
        key = f"{step}: {response.status_code} {problem_title(response)}"
        self.failures[key] = self.failures.get(key, 0) + 1

    async def _step(
        self, step: str, client: httpx.AsyncClient, method: str, url: str, **kw: Any
    ) -> httpx.Response | None:
        began = time.perf_counter()
        response = await client.request(method, url, **kw)
        if response.status_code >= 300:
            self._fail(step, response)
            return None
        self.step_seconds[step].append(time.perf_counter() - began)
        return response

    async def _pay(self, billing: httpx.AsyncClient, order: dict[str, Any]) -> bool:
        body, signature = stripe_signed(intent_succeeded(order))
        headers = {"Stripe-Signature": signature, "Content-Type": "application/json"}
        began = time.perf_counter()
        response = await billing.post("/webhooks/stripe", content=body, headers=headers)
        outcome = response.json().get("outcome") if response.status_code == 200 else None
        if outcome not in ("held", "booked"):
            self._fail("payment", response)
            return False
        self.payments_held += outcome == "held"
        self.step_seconds["payment"].append(time.perf_counter() - began)
        return True

    async def held_payments(self) -> int:
        """How many payments billing still holds (each flow's order has its invoice by
        now, so its OrderPlaced has released its payment: 0 expected)."""
        async with self.flow.client("billing") as billing:
            response = await billing.get("/payments", params={"held": "true", "page_size": 1})
        if response.status_code != 200:
            raise BenchError(f"GET /payments?held=true: {response.status_code} {response.text}")
        return int(response.json()["total"])

    async def one(
        self, orders: httpx.AsyncClient, catalog: httpx.AsyncClient, billing: httpx.AsyncClient
    ) -> _Done | None:
        """One flow; None when a step failed (counted by step and answer)."""
        started = time.perf_counter()
        email = self.order["customer"]["email"]
        cart = await self._step("cart", orders, "POST", "/carts", json={"customer_email": email})
        if cart is None:
            return None
        cart_id = cart.json()["id"]
        lines = await self._step(
            "lines", orders, "PUT", f"/carts/{cart_id}/lines/{self.sku}", json={"quantity": 1}
        )
        if lines is None:
            return None
        country = self.order["shipping_address"]["country"]
        quote = await self._step(
            "shipping",
            catalog,
            "GET",
            f"/shipping-methods/{SHIPPING_METHOD['id']}/quote",
            params={"country": country, "goods_value": lines.json()["value"]},
        )
        if quote is None:
            return None
        if await self._step("checkout", orders, "POST", f"/carts/{cart_id}/checkout") is None:
            return None
        body = {
            "customer": self.order["customer"],
            "shipping_address": self.order["shipping_address"],
            "cart_id": cart_id,
            "shipping_method": SHIPPING_METHOD["id"],
            "payment_method": "card",
        }
        placed = await self._step("order", orders, "POST", "/orders", json=body)
        if placed is None:
            return None
        order = placed.json()
        if not await self._pay(billing, order):
            return None
        return _Done(str(order["id"]), started, time.perf_counter())

    async def run(self, count: int, concurrency: int) -> tuple[list[_Done], float]:
        """``count`` flows from ``concurrency`` clients; the flows done and the start time."""
        done: list[_Done] = []
        left = count

        async def client() -> None:
            nonlocal left
            async with (
                self.flow.client("orders") as orders,
                self.flow.client("catalog") as catalog,
                self.flow.client("billing") as billing,
            ):
                while left > 0:
                    left -= 1
                    finished = await self.one(orders, catalog, billing)
                    if finished is not None:
                        done.append(finished)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return done, started


async def measure_storefront(
    platform: Platform,
    flow: Flow,
    order: dict[str, Any],
    count: int,
    concurrency: int,
    warmup: int = STOREFRONT_WARMUP,
) -> StorefrontResult:
    """(e): ``count`` storefront flows, until every invoice is on the topic and readable."""
    sku = str(order["lines"][0]["sku"])
    front = Storefront(flow, sku, order)
    async with watching(platform) as (watcher, _orders):
        await front.create_shipping_method()
        # orders learns the method from catalog's ShippingMethodChanged: wait until it does
        await flow.first_order({**order, "shipping_method": SHIPPING_METHOD["id"]})
        warm, _ = await front.run(warmup, 1)
        if front.failures or len(warm) != warmup:
            raise BenchError(f"storefront warm-up failed: {front.failures}")
        front.step_seconds = {step: [] for step in STEPS}
        front.payments_held = 0
        done, started = await front.run(count, concurrency)
        last = max((d.finished for d in done), default=started)
        ids = [d.order_id for d in done]
        await watcher.wait_for(ids, timeout=120.0 + count * 0.5)
        found = await flow.invoices_of(ids, concurrency)
        held_left = await front.held_payments()
        flow.check_services()
        seconds = last - started
        return StorefrontResult(
            flows=count,
            concurrency=concurrency,
            requests_per_flow=len(STEPS),
            steps_without_a_route=list(NOT_A_REQUEST),
            completed=len(done),
            failures=front.failures,
            seconds=round(seconds, 3),
            flows_per_s=round(len(done) / seconds, 2) if seconds > 0 else 0.0,
            flow_latency=Latency.of([d.finished - d.started for d in done]),
            step_latency={step: Latency.of(s) for step, s in front.step_seconds.items()},
            payments_held=front.payments_held,
            held_at_the_end=held_left,
            latency_to_invoice=Latency.of([watcher.seen[d.order_id] - d.started for d in done]),
            invoices_found_once=sum(1 for i in ids if len(found[i]) == 1),
            step_routes={
                "cart": "POST /carts",
                "lines": "PUT /carts/{id}/lines/{sku}",
                "address": "(in POST /orders)",
                "shipping": "GET /shipping-methods/{id}/quote",
                "checkout": "POST /carts/{id}/checkout",
                "order": "POST /orders",
                "payment": "POST /webhooks/stripe",
            },
        )


def storefront_lines(result: StorefrontResult) -> list[tuple[str, str]]:
    r = result
    steps = ", ".join(
        f"{step} {lat.p50_ms:,.0f}/{lat.p99_ms:,.0f}" for step, lat in r.step_latency.items()
    )
    return [
        (
            "(e) storefront flows/s, first request .. last payment",
            f"{r.flows_per_s:,.2f}  ({r.completed}/{r.flows} flows in {r.seconds:.2f} s, "
            f"{r.concurrency} clients, {r.requests_per_flow} requests each; "
            f"{', '.join(r.steps_without_a_route)}: in POST /orders)",
        ),
        (
            "    flow latency, cart .. payment booked",
            f"p50 {r.flow_latency.p50_ms:,.1f} ms  p99 {r.flow_latency.p99_ms:,.1f} ms  "
            f"max {r.flow_latency.max_ms:,.1f} ms",
        ),
        ("    per step p50/p99 ms", steps),
        (
            "    POST /carts -> invoice, topic-watch",
            f"p50 {r.latency_to_invoice.p50_ms:,.1f} ms  p99 {r.latency_to_invoice.p99_ms:,.1f} ms",
        ),
        (
            "    invoices / payments held, still held / failed",
            f"{r.invoices_found_once}/{r.completed} exactly once / {r.payments_held}, "
            f"{r.held_at_the_end} / "
            f"{sum(r.failures.values())}" + (f" {r.failures}" if r.failures else ""),
        ),
    ]
