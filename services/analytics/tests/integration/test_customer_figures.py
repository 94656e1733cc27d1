"""Customers (issue 16): new and returning, repeat rate, lifetime value by first-order
cohort and the top customers net of returns, from orders' events through the real
broker. The expected figures are worked out here by hand; customers are shown by their
pseudonymous subject id, never by name or address."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from kontor_contracts.events.orders import OrderCancelled, OrderRejected
from kontor_servicekit.testing import eventually

from .history import GROSS, placed, publish, returned, wrap

pytestmark = pytest.mark.integration

BERLIN = ZoneInfo("Europe/Berlin")


def month_start(day: date, back: int) -> datetime:
    """00:00 Berlin of the first day of the month ``back`` months before ``day``'s."""
    year, month = divmod(day.year * 12 + day.month - 1 - back, 12)
    return datetime(year, month + 1, 1, tzinfo=BERLIN)


def money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


async def test_cohort_lifetime_value_repeat_rate_and_top_customers(
    start_service: Any, infra: Any, namespace: str
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.astimezone(BERLIN).date()
    this_month, last_month = month_start(today, 0), month_start(today, 1)
    in_this = [this_month + (now - this_month) * k / 10 for k in range(1, 10)]
    mid_last, three_back = last_month + timedelta(days=14), month_start(today, 3)
    sent = [
        placed(1, three_back + timedelta(days=3), email="anna@example.de"),
        placed(2, in_this[0], email="anna@example.de"),
        placed(3, mid_last, email="bert@example.de"),
        placed(4, in_this[1], email="bert@example.de"),
        *returned("o-4", "10.00", in_this[2]),
        placed(5, mid_last, email="carla@example.de"),
        wrap(OrderCancelled(order_id="o-5", reason="customer_request"), "o-5"),
        placed(6, in_this[1], email="dora@example.de"),
        wrap(OrderRejected(order_id="o-6", reason="out_of_stock"), "o-6"),
        placed(7, in_this[3], email="dora@example.de"),
        placed(8, in_this[4], email="eve@example.de", customer_id="cust-eve"),
        placed(9, in_this[5], email="eve@example.de", customer_id="cust-eve"),
        # fritz's order three months back was rejected: his first order is this month's
        placed(10, three_back + timedelta(days=5), email="fritz@example.de"),
        wrap(OrderRejected(order_id="o-10", reason="out_of_stock"), "o-10"),
        placed(11, in_this[6], email="fritz@example.de"),
    ]
    query = f"from={last_month.date()}&to={today}&compare=none&top=2&months=3"
    async with start_service("analytics") as analytics:
        await publish(infra.kafka_bootstrap, namespace, sent)

        async def settled() -> dict[str, Any] | None:
            answer = (await analytics.client.get(f"/kpis/customers?{query}")).json()
            metrics = {m["metric"]: m["value"] for m in answer["metrics"]}
            everything = 7 * GROSS - Decimal("10.00")
            done = metrics["revenue_after_cancellations_and_returns"] == money(everything)
            return answer if done and metrics["customers"] == 6 else None

        answer = await eventually(settled, timeout=60, interval=0.5)
        metrics = {m["metric"]: m["value"] for m in answer["metrics"]}
        # anna (first order three months back), bert, carla (cancelled), dora (her first
        # order rejected), eve, fritz; anna, bert and eve ordered more than once
        assert {k: metrics[k] for k in ("new_customers", "returning_customers")} == {
            "new_customers": 5,
            "returning_customers": 1,
        }
        assert (metrics["repeat_customers"], metrics["repeat_rate"]) == (3, 0.5)
        assert metrics["revenue_per_customer"] == money((7 * GROSS - 10) / 6)
        sales = (await analytics.client.get(f"/kpis/sales?{query}")).json()["metrics"]
        told = {m["metric"]: m["value"] for m in sales}
        assert (told["new_customers"], told["returning_customers"]) == (5, 1)

        last, this = answer["cohorts"]
        assert last["cohort"] == f"{last_month:%Y-%m}" and this["cohort"] == f"{this_month:%Y-%m}"
        # last month: bert (one order each month, 10.00 refunded) and carla (cancelled)
        assert (last["customers"], last["repeat_customers"], last["orders"]) == (2, 1, 3)
        assert last["lifetime_value"] == money((2 * GROSS - 10) / 2)
        assert last["value_by_month"] == [money(GROSS / 2), money((2 * GROSS - 10) / 2), None]
        # this month: dora (one kept order), eve (two) and fritz (one kept)
        assert (this["customers"], this["repeat_customers"], this["orders"]) == (3, 1, 4)
        assert this["value_by_month"] == [money(4 * GROSS / 3), None, None]

        subject = analytics.kit.privacy.require()[1].subject_id
        assert answer["top_customers"] == [
            {
                "customer": subject("eve@example.de"),
                "customer_id": "cust-eve",
                "orders": 2,
                "revenue_gross": money(2 * GROSS),
                "revenue_after_cancellations_and_returns": money(2 * GROSS),
            },
            {
                "customer": subject("bert@example.de"),
                "customer_id": None,
                "orders": 2,
                "revenue_gross": money(2 * GROSS),
                "revenue_after_cancellations_and_returns": money(2 * GROSS - 10),
            },
        ]
        assert "@" not in str(answer)

        csv = await analytics.client.get(f"/kpis/customers?{query}&format=csv")
        rows = csv.text.strip().splitlines()
        assert rows[0] == (
            "kind,key,customer_id,customers,orders,repeat_rate,value,month_0,month_1,month_2"
        )
        assert rows[1] == (
            f"cohort,{last_month:%Y-%m},,2,3,0.5,{money((2 * GROSS - 10) / 2)},"
            f"{money(GROSS / 2)},{money((2 * GROSS - 10) / 2)},"
        )
        assert rows[3].startswith(f"customer,{subject('eve@example.de')},cust-eve,,2,,")
