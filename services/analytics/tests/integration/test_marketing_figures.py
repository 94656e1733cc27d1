"""Campaign ROI net of returns and coupon use (issue 16, marketing) from marketing's and
orders' events through the real broker and storefront sessions through POST /collect.
The expected figures are worked out here by hand from the seeded facts; a replay of
the read models from the topics gives the same answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from kontor_analytics.consumers.figures import marketing_facts, order_facts, return_facts
from kontor_contracts.events.marketing import CouponRedeemed
from kontor_contracts.events.orders import OrderCancelled, OrderRejected
from kontor_servicekit.rebuild import rebuild_projection
from kontor_servicekit.testing import eventually

from .history import BROWSER, GROSS, campaign, coupon, placed, publish, returned, wrap

pytestmark = pytest.mark.integration

BERLIN = ZoneInfo("Europe/Berlin")


async def test_campaign_roi_net_of_returns_and_coupon_use(
    start_service: Any, infra: Any, namespace: str
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.astimezone(BERLIN).date()
    query = f"from={today - timedelta(days=2)}&to={today}"
    hour = timedelta(hours=1)
    events = [
        # Winter: its coupon, cost 100, to 200 people, sent yesterday
        *campaign("c-winter", "Winter", now - 20 * hour, coupon="WINTER10", cost="100", to=200),
        coupon("WINTER10", "c-winter"),
        # Xmas news: no coupon, its links carry utm_campaign=xmas-news, cost 50
        *campaign("c-xmas", "xmas-news", now - 10 * hour, coupon=None, cost="50", to=100),
        # Old: sent 60 days ago (outside the period); its coupon still works
        *campaign("c-old", "Old", now - timedelta(days=60), coupon=None, cost="30", to=10),
        coupon("OLD5", "c-old"),
        coupon("FREE", None),  # a coupon of no campaign
        placed(1, now - 5 * hour, coupons={"WINTER10": "6.76"}),
        placed(2, now - 5 * hour, coupons={"WINTER10": "6.76"}),
        wrap(OrderCancelled(order_id="o-2", reason="customer_request"), "o-2"),
        placed(3, now - 4 * hour, coupons={"WINTER10": "6.76"}),
        *returned("o-3", "23.79", now - 2 * hour),
        placed(4, now - 4 * hour, coupons={"WINTER10": "6.76"}),
        wrap(OrderRejected(order_id="o-4", reason="out_of_stock"), "o-4"),
        placed(5, now - 3 * hour, coupons={"OLD5": "5.00"}),  # the old campaign's
        placed(6, now - 3 * hour),  # bought in a xmas-news session
        placed(7, now - 3 * hour, coupons={"WINTER10": "6.76"}),  # in a xmas session too
        placed(8, now - 2 * hour, coupons={"FREE": "2.00", "WINTER10": "5.00"}),
        placed(9, now - 2 * hour),  # nobody's
    ]
    sessions = [  # (client, utm_campaign, transaction id)
        ("c1.1", "xmas-news", "B-2026-000006"),
        ("c2.1", "xmas-news", "B-2026-000007"),
        ("c3.1", "somebody-else", "B-2026-000009"),
    ]
    async with start_service("analytics") as analytics:
        await publish(infra.kafka_bootstrap, namespace, events)
        for client, tag, transaction in sessions:
            at = int((now - 3 * hour).timestamp() * 1e6)
            landing = (
                f"https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign={tag}"
            )
            body = {
                "client_id": client,
                "events": [
                    {
                        "name": "page_view",
                        "params": {"page_location": landing},
                        "timestamp_micros": at,
                    },
                    {
                        "name": "purchase",
                        "params": {
                            "transaction_id": transaction,
                            "value": 67.58,
                            "currency": "EUR",
                        },
                        "timestamp_micros": at + 60_000_000,
                    },
                ],
            }
            sent = await analytics.client.post(
                "/collect?measurement_id=G-KONTOR", json=body, headers={"user-agent": BROWSER}
            )
            assert sent.status_code == 204, sent.text

        async def settled() -> dict[str, Any] | None:
            answer = (await analytics.client.get(f"/kpis/marketing?{query}")).json()
            metrics = {m["metric"]: m["value"] for m in answer["metrics"]}
            winter = [c for c in answer["campaigns"] if c["campaign_id"] == "c-winter"]
            ready = (
                metrics["orders"] == 8
                and len(answer["campaigns"]) == 2
                and winter[0]["refunded_gross"] == "23.79"
                and winter[0]["cancelled_gross"] == str(GROSS)
            )
            return answer if ready else None

        first = await eventually(settled, timeout=60, interval=0.5)
        by_id = {c["campaign_id"]: c for c in first["campaigns"]}
        assert [c["campaign_id"] for c in first["campaigns"]] == ["c-xmas", "c-winter"]
        # Winter: orders 1, 2 (cancelled), 3 (refund 23.79), 7 and 8 by coupon; 4 rejected
        winter = by_id["c-winter"]
        assert (winter["orders"], winter["orders_by_coupon"], winter["orders_by_session"]) == (
            5,
            5,
            0,
        )
        winter_after = 5 * GROSS - GROSS - Decimal("23.79")
        assert winter["revenue_gross"] == str(5 * GROSS)
        assert winter["revenue_after_cancellations_and_returns"] == str(winter_after)
        assert winter["discount_gross"] == str(4 * Decimal("6.76") + Decimal("5.00"))
        assert winter["cost"] == "100.00"
        assert winter["roi"] == round(float((winter_after - 100) / 100), 4)
        assert winter["conversion_rate"] == round(5 / 200, 4)
        # Xmas news: order 6 by its session; order 7's coupon takes it to Winter
        xmas = by_id["c-xmas"]
        assert (xmas["orders"], xmas["orders_by_session"]) == (1, 1)
        assert xmas["revenue_after_cancellations_and_returns"] == str(GROSS)
        assert xmas["roi"] == round(float((GROSS - 50) / 50), 4)

        metrics = {m["metric"]: m["value"] for m in first["metrics"]}
        assert metrics["campaigns"] == 2
        assert metrics["campaign_cost"] == "150.00"
        total_after = winter_after + GROSS
        assert metrics["campaign_revenue_after_cancellations_and_returns"] == str(total_after)
        assert metrics["campaign_roi"] == round(float((total_after - 150) / 150), 4)
        # coupons over the 8 orders placed and not rejected: 1, 2, 3, 5, 7, 8 used one
        assert (metrics["orders"], metrics["orders_with_coupon"]) == (8, 6)
        assert metrics["coupon_rate"] == round(6 / 8, 4)
        codes = {c["code"]: c for c in first["coupons"]}
        assert {k: (c["orders"], c["campaign_id"]) for k, c in codes.items()} == {
            "WINTER10": (5, "c-winter"),
            "OLD5": (1, "c-old"),
            "FREE": (1, None),
        }
        assert codes["WINTER10"]["discount_gross"] == str(winter["discount_gross"])
        assert codes["WINTER10"]["revenue_after_cancellations_and_returns"] == str(winter_after)
        assert metrics["coupon_discount_gross"] == str(
            4 * Decimal("6.76") + Decimal("5.00") + Decimal("5.00") + Decimal("2.00")
        )

        csv = await analytics.client.get(f"/kpis/marketing?{query}", headers={"accept": "text/csv"})
        rows = csv.text.strip().splitlines()
        assert rows[0] == (
            "kind,key,campaign_id,orders,discount_gross,revenue_gross,"
            "revenue_after_cancellations_and_returns,cost,roi"
        )
        assert rows[1].startswith("campaign,xmas-news,c-xmas,1,0.00,67.58,67.58,50.00,")
        assert rows[3].startswith("coupon,WINTER10,c-winter,5,")
        settings = analytics.settings

    for subscription in (marketing_facts(), order_facts(), return_facts()):
        await rebuild_projection(settings, subscription)
    async with start_service("analytics") as again:

        async def replayed() -> bool:
            answer = (await again.client.get(f"/kpis/marketing?{query}")).json()
            return answer == first

        await eventually(replayed, timeout=60, interval=0.5)


async def test_a_pool_codes_order_is_its_campaigns_by_the_redemption(
    start_service: Any, infra: Any, namespace: str
) -> None:
    """ADR 0118: a coupon pool's code has no CouponDefined; marketing's CouponRedeemed
    names the campaign whose mail handed it out, and the order counts for it."""
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.astimezone(BERLIN).date()
    query = f"from={today - timedelta(days=2)}&to={today}"
    code = "WELCOME-7K3Q-9XPA"
    used = CouponRedeemed(
        code=code,
        order_id="o-1",
        discount=Decimal("5.00"),
        currency="EUR",
        campaign_id="c-pool",
        redeemed_at=now - timedelta(hours=1),
    )
    events = [
        *campaign("c-pool", "Willkommen", now - timedelta(hours=5), coupon=None, cost="10", to=2),
        placed(1, now - timedelta(hours=1), coupons={code: "5.00"}),
        wrap(used, code, "marketing"),
        placed(2, now - timedelta(hours=1)),  # nobody's
    ]
    async with start_service("analytics") as analytics:
        await publish(infra.kafka_bootstrap, namespace, events)

        async def attributed() -> dict[str, Any] | None:
            answer = (await analytics.client.get(f"/kpis/marketing?{query}")).json()
            found = [c for c in answer["campaigns"] if c["campaign_id"] == "c-pool"]
            return found[0] if found and found[0]["orders"] == 1 else None

        shown = await eventually(attributed, timeout=60, interval=0.5)
        assert (shown["orders_by_coupon"], shown["revenue_gross"]) == (1, str(GROSS))
