"""The figures from a seeded history (issue 16's proof): 340 orders with their fates,
shipments, deliveries and returns through the real broker, and 460 storefront sessions
(about 1,200 GA4 events) through POST /collect. The expected figures are computed here
from the seed's own plain records, not with the service's code; then the read models are
rebuilt from scratch (kit rebuild + sessions rebuild) and every figure comes out the same.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from kontor_analytics.consumers.figures import fact_subscriptions
from kontor_servicekit.rebuild import rebuild_projection
from kontor_servicekit.testing import eventually

from .history import BROWSER, History, Visit, cents, publish, seeded, utc_now

pytestmark = pytest.mark.integration

BERLIN = ZoneInfo("Europe/Berlin")
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
ROUTES = ("sales", "funnel", "conversion", "returns", "fulfilment")


def rate(part: int, whole: int) -> float | None:
    return None if not whole else round(part / whole, 4)


def berlin_day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=BERLIN)


def expected_sales(history: History, start: datetime, end: datetime) -> dict[str, Any]:
    placed = [o for o in history.orders if start <= o.placed_at < end and not o.rejected]
    gross = sum((o.gross for o in placed), start=Decimal("0"))
    cancelled = sum((o.gross for o in placed if o.cancelled), start=Decimal("0"))
    refunded = sum(
        (r[3] for o in placed if not o.cancelled for r in o.returns if r[3] is not None),
        start=Decimal("0"),
    )
    units = sum(q for o in placed for _, q, _ in o.lines)
    return {
        "orders": len(placed),
        "revenue_gross": str(cents(gross)),
        "revenue_net": str(cents(sum((o.net for o in placed), start=Decimal("0")))),
        "cancelled_gross": str(cents(cancelled)),
        "refunded_gross": str(cents(refunded)),
        "revenue_after_cancellations_and_returns": str(cents(gross - cancelled - refunded)),
        "average_order_value": str(cents(gross / len(placed))),
        "units": units,
        "units_per_order": rate(units, len(placed)),
    }


def expected_returns(history: History, start: datetime, end: datetime) -> dict[str, Any]:
    kept = [
        o for o in history.orders if start <= o.placed_at < end and not (o.rejected or o.cancelled)
    ]
    sold: Counter[str] = Counter()
    back: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    sizes_sold: Counter[str] = Counter()
    sizes_back: Counter[str] = Counter()
    from .history import PRODUCTS

    for order in kept:
        for sku, qty, _ in order.lines:
            sold[sku] += qty
            if "size" in PRODUCTS[sku][1]:
                sizes_sold[f"size={PRODUCTS[sku][1]['size']}"] += qty
        for sku, qty, reason, _ in order.returns:
            back[sku] += qty
            reasons[reason] += qty
            if "size" in PRODUCTS[sku][1]:
                sizes_back[f"size={PRODUCTS[sku][1]['size']}"] += qty
    total = sum(sold.values())
    return {
        "units_sold": total,
        "units_returned": sum(back.values()),
        "rate": rate(sum(back.values()), total),
        "by_sku": {sku: rate(back[sku], sold[sku]) for sku in sold},
        "by_reason": {reason: rate(n, total) for reason, n in reasons.items()},
        "by_size": {size: rate(sizes_back[size], n) for size, n in sizes_sold.items()},
    }


def expected_fulfilment(history: History, start: datetime, end: datetime) -> dict[str, Any]:
    kept = [
        o for o in history.orders if start <= o.placed_at < end and not (o.rejected or o.cancelled)
    ]
    shipped = [o for o in kept if o.shipped_at is not None]
    on_time = [o for o in shipped if o.shipped_at - o.placed_at <= timedelta(hours=48)]  # type: ignore[operator]
    return {
        "orders": len(kept),
        "shipped": len(shipped),
        "delivered": sum(1 for o in kept if o.delivered_at is not None),
        "shipped_on_time_rate": rate(len(on_time), len(shipped)),
    }


def expected_sessions(visits: list[Visit]) -> dict[str, Any]:
    people = [v for v in visits if not v.bot]
    bought = [v for v in people if "purchase" in v.steps]
    steps = ("view_item", "add_to_cart", "begin_checkout", "purchase")
    reached = [sum(1 for v in people if set(steps[: i + 1]) <= v.steps) for i in range(4)]
    carts = [v for v in people if "add_to_cart" in v.steps]
    abandoned = [v for v in carts if "purchase" not in v.steps]
    by_source: Counter[str] = Counter()
    by_source_bought: Counter[str] = Counter()
    for v in people:
        by_source[f"{v.source[0]} / {v.source[1]}"] += 1
        by_source_bought[f"{v.source[0]} / {v.source[1]}"] += "purchase" in v.steps
    viewed = Counter(sku for v in people for sku in v.items("view_item"))
    purchased = Counter(sku for v in people for sku in v.items("purchase"))
    lost: Counter[str] = Counter()
    for v in people:
        if "purchase" not in v.steps:
            lost.update(v.errors)
    return {
        "sessions": len(people),
        "sessions_with_purchase": len(bought),
        "rate": rate(len(bought), len(people)),
        "steps": [
            {
                "step": step,
                "sessions": reached[i],
                "drop_off_rate": None if i == 3 else rate(reached[i] - reached[i + 1], reached[i]),
            }
            for i, step in enumerate(steps)
        ],
        "abandonment_rate": rate(len(abandoned), len(carts)),
        "abandoned_value": str(cents(sum((v.cart_value for v in abandoned), start=Decimal("0")))),
        "by_source": {k: rate(by_source_bought[k], n) for k, n in by_source.items()},
        "by_product": {k: (n, purchased[k]) for k, n in viewed.items()},
        "lost_by_error": dict(lost),
    }


def expected_shirts(history: History, start: datetime, end: datetime) -> dict[str, Any]:
    """The webshop's shirts only: orders with a shirt, their shirt lines' gross and
    pieces; of the kept ones, the shirt pieces sold and returned."""
    from .history import PRODUCTS

    def shirts(lines: list[Any]) -> list[Any]:
        return [line for line in lines if PRODUCTS[line[0]][0] == "Shirts"]

    placed = [
        o
        for o in history.orders
        if start <= o.placed_at < end and not o.rejected and o.channel == "webshop"
    ]
    mine = [o for o in placed if shirts(o.lines)]
    kept = [o for o in mine if not o.cancelled]
    return {
        "orders": len(mine),
        "revenue_gross": str(
            sum((g for o in mine for _, _, g in shirts(o.lines)), start=Decimal(0))
        ),
        "units": sum(q for o in mine for _, q, _ in shirts(o.lines)),
        "units_sold": sum(q for o in kept for _, q, _ in shirts(o.lines)),
        "units_returned": sum(q for o in kept for r in shirts(o.returns) for q in [r[1]]),
    }


async def answers(service: Any, query: str) -> dict[str, Any]:
    found = {}
    for route in ROUTES:
        response = await service.client.get(f"/kpis/{route}?{query}")
        assert response.status_code == 200, (route, response.text)
        found[route] = response.json()
    return found


def metric(answer: dict[str, Any], name: str) -> Any:
    return next(m for m in answer["metrics"] if m["metric"] == name)


async def test_a_seeded_history_gives_the_figures_and_a_replay_the_same(
    start_service: Any, infra: Any, namespace: str
) -> None:
    now = utc_now()
    history = seeded(now)
    today = now.astimezone(BERLIN).date()
    start, end = (
        berlin_day_start(today - timedelta(days=2)),
        berlin_day_start(today + timedelta(days=1)),
    )
    query = f"from={today - timedelta(days=2)}&to={today}"
    events = [*history.products(), *history.order_events()]
    assert len(events) > 1000
    sales = expected_sales(history, start, end)
    previous = expected_sales(history, start - (end - start), start)
    returns = expected_returns(history, start, end)
    fulfilment = expected_fulfilment(history, start, end)
    sessions = expected_sessions(history.visits)

    async with start_service("analytics") as analytics:
        await publish(infra.kafka_bootstrap, namespace, events)
        lanes = asyncio.Semaphore(8)

        async def send(visit: Visit) -> int:
            ua = GOOGLEBOT if visit.bot else BROWSER
            async with lanes:
                answer = await analytics.client.post(
                    "/collect?measurement_id=G-KONTOR",
                    json=visit.body(),
                    headers={"user-agent": ua},
                )
            assert answer.status_code == 204, answer.text
            return len(visit.hits)

        hits = sum(await asyncio.gather(*(send(v) for v in history.visits)))
        assert hits > 1000

        async def settled() -> dict[str, Any] | None:
            probe = (await analytics.client.get(f"/kpis/returns?{query}")).json()
            if probe["units_returned"] != returns["units_returned"]:
                return None
            found = await answers(analytics, query)
            done = (
                metric(found["sales"], "orders")["value"] == sales["orders"]
                and metric(found["sales"], "orders")["previous"] == previous["orders"]
                and found["returns"]["units_returned"] == returns["units_returned"]
                and metric(found["fulfilment"], "delivered")["value"] == fulfilment["delivered"]
                and metric(found["sales"], "refunded_gross")["value"] == sales["refunded_gross"]
            )
            return found if done else None

        first = await eventually(settled, timeout=120, interval=1.0)

        got_sales = {name: metric(first["sales"], name)["value"] for name in sales}
        assert got_sales == sales
        assert metric(first["sales"], "orders")["previous"] == previous["orders"] == 40
        assert metric(first["sales"], "orders")["change"] == round((sales["orders"] - 40) / 40, 4)
        got_returns = first["returns"]
        assert got_returns["rate"] == returns["rate"]
        assert {r["key"]: r["rate"] for r in got_returns["by_sku"]} == returns["by_sku"]
        assert {r["key"]: r["rate"] for r in got_returns["by_reason"]} == returns["by_reason"]
        sizes = {
            r["key"]: r["rate"] for r in got_returns["by_attribute"] if r["key"].startswith("size=")
        }
        assert sizes == returns["by_size"]
        got_fulfilment = {name: metric(first["fulfilment"], name)["value"] for name in fulfilment}
        assert got_fulfilment == fulfilment

        funnel, conversion = first["funnel"], first["conversion"]
        assert funnel["steps"] == sessions["steps"]
        assert funnel["abandonment_rate"] == sessions["abandonment_rate"]
        assert funnel["abandoned_value"] == sessions["abandoned_value"]
        lost = {e["reason"]: e["sessions_lost"] for e in funnel["checkout_errors"]}
        assert lost == sessions["lost_by_error"]
        assert (
            conversion["sessions"],
            conversion["sessions_with_purchase"],
            conversion["rate"],
        ) == (
            sessions["sessions"],
            sessions["sessions_with_purchase"],
            sessions["rate"],
        )
        assert {r["key"]: r["rate"] for r in conversion["by_source"]} == sessions["by_source"]
        assert {
            r["key"]: (r["sessions"], r["sessions_with_purchase"]) for r in conversion["by_product"]
        } == sessions["by_product"]

        csv = await analytics.client.get(f"/kpis/funnel?{query}", headers={"accept": "text/csv"})
        assert csv.headers["content-type"].startswith("text/csv")
        lines = csv.text.strip().splitlines()
        assert lines[0] == "period,step,sessions,drop_off_rate"
        assert lines[1].startswith(f"current,view_item,{sessions['steps'][0]['sessions']},")
        conversion_csv = await analytics.client.get(f"/kpis/conversion?{query}&format=csv")
        rows = conversion_csv.text.strip().splitlines()
        assert rows[0] == "dimension,key,sessions,sessions_with_purchase,rate"
        assert rows[1] == (
            f"overall,all,{sessions['sessions']},{sessions['sessions_with_purchase']},"
            f"{sessions['rate']}"
        )
        assert {r.split(",")[0] for r in rows[2:]} >= {"by_source", "by_product", "by_category"}
        returns_csv = await analytics.client.get(f"/kpis/returns?{query}&format=csv")
        rows = returns_csv.text.strip().splitlines()
        assert rows[0] == "dimension,key,units_sold,units_returned,rate"
        assert rows[1] == (
            f"overall,all,{returns['units_sold']},{returns['units_returned']},{returns['rate']}"
        )
        assert {r.split(",")[0] for r in rows[2:]} == {
            "by_sku",
            "by_reason",
            "by_category",
            "by_attribute",
        }
        # the dashboard's filters on the figures they narrow (ADR 0097)
        shirts = expected_shirts(history, start, end)
        narrowed = f"{query}&category=Shirts&channel=webshop"
        got = (await analytics.client.get(f"/kpis/sales?{narrowed}")).json()
        assert {k: metric(got, k)["value"] for k in ("orders", "revenue_gross", "units")} == {
            k: shirts[k] for k in ("orders", "revenue_gross", "units")
        }
        got = (await analytics.client.get(f"/kpis/returns?{narrowed}")).json()
        assert (got["units_sold"], got["units_returned"]) == (
            shirts["units_sold"],
            shirts["units_returned"],
        )
        elsewhere = (
            await analytics.client.get(f"/kpis/conversion?{query}&channel=marketplace")
        ).json()
        assert elsewhere["sessions"] == 0  # the storefront's sessions are the webshop's
        settings = analytics.settings
    dropped = set()
    for subscription in fact_subscriptions():
        report = await rebuild_projection(settings, subscription)
        dropped |= set(report.dropped_collections)
    assert dropped == {
        "fact_orders",
        "fact_returns",
        "fact_products",
        "fact_invoices",
        "fact_campaigns",
        "fact_coupons",
    }
    async with start_service("analytics") as again:
        db = again.kit.store.db
        await db["sessions"].drop()
        await db["session_clients"].drop()
        assert (await again.client.get(f"/kpis/conversion?{query}")).json()["sessions"] == 0
        rebuilt = await again.client.post("/sessions/rebuild")
        assert rebuilt.status_code == 204

        async def replayed() -> dict[str, Any] | None:
            probe = (await again.client.get(f"/kpis/returns?{query}")).json()
            if probe != first["returns"]:
                return None
            found = await answers(again, query)
            return found if found == first else None

        await eventually(replayed, timeout=120, interval=1.0)
