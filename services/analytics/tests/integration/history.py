"""A seeded shop history for the figures tests: products, orders with their fates,
shipments, deliveries and returns as contract events, and storefront sessions as GA4
request bodies, each with the plain facts the test computes its expectations from."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from kontor_contracts.envelope import Envelope, Event
from kontor_contracts.events.catalog import ProductCreated
from kontor_contracts.events.common import Address, Customer
from kontor_contracts.events.marketing import CampaignScheduled, CampaignSent, CouponDefined
from kontor_contracts.events.orders import (
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderLine,
    OrderPlaced,
    OrderRejected,
    OrderShipped,
    ReturnCompleted,
    ReturnLine,
    ReturnRequested,
    ShippedLine,
)
from kontor_contracts.registry import REGISTRY
from kontor_contracts.samples import order_placed_envelope
from kontor_servicekit.testing import as_message, produce

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
GROSS = Decimal("67.58")  # every sample order's gross (kontor_contracts.samples)
CENT = Decimal("0.01")
PRODUCTS = {
    "TEE-M": ("Shirts", {"size": "M", "colour": "red"}, Decimal("19.99")),
    "TEE-L": ("Shirts", {"size": "L", "colour": "red"}, Decimal("19.99")),
    "JEANS-32": ("Pants", {"size": "32"}, Decimal("59.90")),
    "JEANS-34": ("Pants", {"size": "34"}, Decimal("59.90")),
    "CAP": ("Accessories", {}, Decimal("12.50")),
    "SOCKS": ("Accessories", {}, Decimal("4.99")),
}
REASONS = ("too_small", "too_large", "not_as_described", "changed_mind")
ADDRESS = Address(
    name="Anna Muster", street="Hauptstr. 1", postcode="10115", city="Berlin", country="DE"
)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Order:
    order_id: str
    placed_at: datetime
    lines: list[tuple[str, int, Decimal]]  # sku, quantity, line gross
    customer: str
    channel: str = "webshop"
    rejected: bool = False
    cancelled: bool = False
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    returns: list[tuple[str, int, str, Decimal | None]] = field(default_factory=list)
    """sku, quantity, reason, refund (None: not completed)"""

    @property
    def gross(self) -> Decimal:
        return sum((g for _, _, g in self.lines), start=Decimal("0"))

    @property
    def net(self) -> Decimal:
        return sum((cents(g / Decimal("1.19")) for _, _, g in self.lines), start=Decimal("0"))


@dataclass
class Visit:
    """One storefront session as the test means it."""

    client_id: str
    start: datetime
    source: tuple[str, str, str | None]
    hits: list[tuple[str, dict[str, Any]]]
    bot: bool = False

    @property
    def steps(self) -> set[str]:
        return {name for name, _ in self.hits}

    def items(self, name: str) -> set[str]:
        return {i["item_id"] for n, p in self.hits if n == name for i in p.get("items", [])}

    @property
    def cart_value(self) -> Decimal:
        return sum(
            (Decimal(str(p["value"])) for n, p in self.hits if n == "add_to_cart"),
            start=Decimal("0"),
        )

    @property
    def errors(self) -> set[str]:
        return {p["reason"] for n, p in self.hits if n == "checkout_error"}

    def body(self) -> dict[str, Any]:
        events = []
        for index, (name, params) in enumerate(self.hits):
            at = self.start + timedelta(minutes=2 * index)
            events.append(
                {"name": name, "params": params, "timestamp_micros": int(at.timestamp() * 1e6)}
            )
        return {"client_id": self.client_id, "events": events}


def _wrap(event: Event, key: str) -> Envelope:
    producer = "catalog" if isinstance(event, ProductCreated) else "orders"
    return Envelope.wrap(event, producer=producer, aggregate_id=key)


@dataclass
class History:
    now: datetime
    orders: list[Order]
    visits: list[Visit]
    seed: int = 16

    def products(self) -> Iterator[Envelope]:
        for sku, (category, attributes, gross) in PRODUCTS.items():
            yield _wrap(
                ProductCreated(
                    sku=sku,
                    name=f"Artikel {sku}",
                    price_net=cents(gross / Decimal("1.19")),
                    price_gross=gross,
                    vat_class="standard",
                    vat_rate=Decimal("0.19"),
                    currency="EUR",
                    stock=50,
                    category=category,
                    variant_attributes=attributes or None,
                ),
                sku,
            )

    def order_events(self) -> Iterator[Envelope]:
        for n, order in enumerate(self.orders, start=1):
            yield from self._events_of(n, order)

    def _events_of(self, n: int, order: Order) -> Iterator[Envelope]:
        key = order.order_id
        lines = [
            OrderLine(
                line_no=i,
                sku=sku,
                name=f"Artikel {sku}",
                quantity=qty,
                unit_price_net=cents(PRODUCTS[sku][2] / Decimal("1.19")),
                unit_price_gross=PRODUCTS[sku][2],
                vat_rate=Decimal("0.19"),
                line_net=cents(gross / Decimal("1.19")),
                line_vat=gross - cents(gross / Decimal("1.19")),
                line_gross=gross,
            )
            for i, (sku, qty, gross) in enumerate(order.lines, start=1)
        ]
        yield _wrap(
            OrderPlaced(
                order_id=key,
                order_number=f"B-2026-{n:06d}",
                customer=Customer(email=order.customer, name="Kundin"),
                shipping_address=ADDRESS,
                lines=lines,
                currency="EUR",
                net_total=order.net,
                vat_total=order.gross - order.net,
                gross_total=order.gross,
                placed_at=order.placed_at,
                sales_channel=order.channel,
            ),
            key,
        )
        if order.rejected:
            yield _wrap(OrderRejected(order_id=key, reason="out_of_stock"), key)
            return
        yield _wrap(OrderConfirmed(order_id=key, confirmed_at=order.placed_at), key)
        if order.cancelled:
            yield _wrap(OrderCancelled(order_id=key, reason="customer_request"), key)
            return
        if order.shipped_at is not None:
            shipped = [
                ShippedLine(line_no=line.line_no, sku=line.sku, quantity=line.quantity)
                for line in lines
            ]
            yield _wrap(
                OrderShipped(
                    order_id=key,
                    shipment_id=f"s-{n}",
                    carrier="DHL",
                    lines=shipped,
                    complete=True,
                    shipped_at=order.shipped_at,
                ),
                key,
            )
        if order.delivered_at is not None:
            yield _wrap(OrderDelivered(order_id=key, delivered_at=order.delivered_at), key)
        for index, (sku, qty, reason, refund) in enumerate(order.returns):
            return_id = f"{key}-r{index}"
            requested = (order.delivered_at or order.placed_at) + timedelta(days=3)
            yield _wrap(
                ReturnRequested(
                    return_id=return_id,
                    order_id=key,
                    lines=[ReturnLine(sku=sku, quantity=qty, reason=reason)],
                    requested_at=requested,
                    withdrawal=False,
                ),
                return_id,
            )
            if refund is not None:
                yield _wrap(
                    ReturnCompleted(
                        return_id=return_id,
                        order_id=key,
                        refund_amount=refund,
                        currency="EUR",
                        includes_shipping=False,
                    ),
                    return_id,
                )


def seeded(now: datetime, *, orders: int = 300, earlier: int = 40, visits: int = 420) -> History:
    rng = random.Random(16)
    hour = timedelta(hours=1)
    made: list[Order] = []
    customers = [f"kunde{i}@example.de" for i in range(120)]
    for i in range(orders + earlier):
        placed = (
            now - hour * rng.uniform(1, 46)
            if i < orders
            else now - timedelta(days=4.5) + hour * rng.uniform(-10, 10)
        )
        skus = rng.sample(sorted(PRODUCTS), rng.randint(1, 3))
        lines = []
        for sku in skus:
            qty = rng.randint(1, 3)
            lines.append((sku, qty, PRODUCTS[sku][2] * qty))
        order = Order(
            str(uuid.UUID(int=rng.getrandbits(128))),
            placed,
            lines,
            rng.choice(customers),
            channel="marketplace" if i % 7 == 3 else "webshop",
        )
        fate = rng.random() if i < orders else 0.5
        if fate < 0.05:
            order.rejected = True
        elif fate < 0.13:
            order.cancelled = True
        elif rng.random() < 0.9:
            order.shipped_at = placed + hour * rng.uniform(2, 80)
            if rng.random() < 0.85:
                order.delivered_at = order.shipped_at + hour * rng.uniform(20, 70)
                if rng.random() < 0.3:
                    sku, qty, gross = rng.choice(lines)
                    back = rng.randint(1, qty)
                    refund = cents(gross / qty * back) if rng.random() < 0.6 else None
                    order.returns.append((sku, back, rng.choice(REASONS), refund))
        made.append(order)
    return History(now, made, _visits(rng, now, visits))


SOURCES = (
    ("newsletter", "email", "xmas"),
    ("www.google.com", "referral", None),
    ("(direct)", "(none)", None),
)


def _visits(rng: random.Random, now: datetime, count: int) -> list[Visit]:
    found: list[Visit] = []
    for i in range(count):
        source = rng.choice(SOURCES)
        start = now - timedelta(hours=rng.uniform(3, 44))
        found.append(_visit(rng, f"c{i}.1733", start, source, bot=i % 21 == 20))
        if i % 10 == 3:  # the same client again two hours later: a second session
            found.append(_visit(rng, f"c{i}.1733", start + timedelta(hours=2), SOURCES[2]))
    return found


def _visit(
    rng: random.Random,
    client: str,
    start: datetime,
    source: tuple[str, str, str | None],
    *,
    bot: bool = False,
) -> Visit:
    if source[1] == "email":
        first = {
            "page_location": "https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=xmas"
        }
    elif source[1] == "referral":
        first = {
            "page_location": "https://shop.example/",
            "page_referrer": "https://www.google.com/",
        }
    else:
        first = {"page_location": "https://shop.example/"}
    hits: list[tuple[str, dict[str, Any]]] = [("page_view", first)]
    sku = rng.choice(sorted(PRODUCTS))
    category, _, price = PRODUCTS[sku]
    item = {"item_id": sku, "item_category": category, "price": float(price), "quantity": 1}
    viewed = rng.random() < 0.7
    if viewed:
        hits.append(("view_item", {"currency": "EUR", "value": float(price), "items": [item]}))
    if (viewed and rng.random() < 0.5) or (not viewed and rng.random() < 0.05):
        hits.append(("add_to_cart", {"currency": "EUR", "value": float(price), "items": [item]}))
        if rng.random() < 0.6:
            hits.append(
                ("begin_checkout", {"currency": "EUR", "value": float(price), "items": [item]})
            )
            failed = rng.random() < 0.25
            if failed:
                hits.append(
                    ("checkout_error", {"reason": rng.choice(("card_declined", "address_invalid"))})
                )
            if rng.random() < (0.3 if failed else 0.7):
                purchase = {
                    "currency": "EUR",
                    "value": float(price),
                    "transaction_id": f"T-{client}-{start.timestamp():.0f}",
                    "items": [item],
                }
                hits.append(("purchase", purchase))
    return Visit(client, start, source, hits, bot)


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


async def publish(bootstrap: str, namespace: str, envelopes: list[Any]) -> None:
    by_topic: dict[str, list[Any]] = {}
    for envelope in envelopes:
        topic = f"{namespace}.{REGISTRY.spec_for(envelope.type, 1).topic}"
        by_topic.setdefault(topic, []).append(as_message(envelope))
    for topic, messages in by_topic.items():
        await produce(bootstrap, topic, messages)


def placed(
    n: int,
    at: datetime,
    *,
    coupons: dict[str, str] | None = None,
    email: str = "anna@example.de",
    customer_id: str | None = None,
) -> Envelope:
    """The sample OrderPlaced as order ``n``, placed ``at``, with ``coupons`` (code ->
    its share of the discount)."""
    who = Customer(email=email, name="Kundin", customer_id=customer_id)
    sample = order_placed_envelope(f"o-{n}", number=n, customer=who)
    payload = {**sample.payload, "placed_at": at}
    if coupons:
        discount = sum((Decimal(v) for v in coupons.values()), start=Decimal("0"))
        payload |= {
            "coupon_codes": list(coupons),
            "coupon_discounts": coupons,
            "discount_gross": discount,
        }
    event = OrderPlaced.model_validate(payload)
    return Envelope.wrap(event, producer="orders", aggregate_id=event.order_id)


def wrap(event: Any, key: str, producer: str = "orders") -> Envelope:
    return Envelope.wrap(event, producer=producer, aggregate_id=key)


def returned(order: str, refund: str, at: datetime) -> list[Envelope]:
    rid = f"{order}-r"
    line = ReturnLine(sku="TEE-RED-M", quantity=1, reason="too_small")
    asked = ReturnRequested(
        return_id=rid, order_id=order, lines=[line], requested_at=at, withdrawal=True
    )
    done = ReturnCompleted(
        return_id=rid,
        order_id=order,
        refund_amount=Decimal(refund),
        currency="EUR",
        includes_shipping=False,
    )
    return [wrap(asked, rid), wrap(done, rid)]


def campaign(
    cid: str, name: str, sent: datetime, *, coupon: str | None, cost: str | None, to: int
) -> list[Envelope]:
    scheduled = CampaignScheduled(
        campaign_id=cid,
        name=name,
        channel="email",
        scheduled_for=sent,
        audience="Stammkunden",
        coupon_code=coupon,
        cost=None if cost is None else Decimal(cost),
    )
    went = CampaignSent(campaign_id=cid, recipients=to, sent_at=sent, channel="email")
    return [wrap(scheduled, cid, "marketing"), wrap(went, cid, "marketing")]


def coupon(code: str, cid: str | None) -> Envelope:
    event = CouponDefined(code=code, kind="percent", percent=Decimal("10"), campaign_id=cid)
    return wrap(event, code, "marketing")
