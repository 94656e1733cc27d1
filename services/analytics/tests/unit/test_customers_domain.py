"""Repeat rate, cohort value and top customers (domain/customers.py) on hand-made facts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from kontor_analytics.domain import customers as c
from kontor_analytics.domain import figures as f

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
PERIOD = f.Period(datetime(2026, 10, 1, tzinfo=UTC), NOW)


def order(oid: str, who: str, at: datetime, gross: str = "10", **more: object) -> f.OrderFact:
    return f.OrderFact(
        order_id=oid,
        placed_at=at,
        gross=Decimal(gross),
        net=Decimal(gross),
        lines=(f.SoldLine("A", 1, Decimal(gross)),),
        customer=who,
        **more,  # type: ignore[arg-type]
    )


def test_a_cohorts_value_accumulates_by_month_and_stops_at_the_present() -> None:
    refund = f.ReturnFact(None, (), Decimal("4"))
    orders = [
        order("1", "a", datetime(2026, 10, 5, tzinfo=UTC)),
        order("2", "a", datetime(2026, 12, 1, tzinfo=UTC), returns=(refund,)),
        order("3", "b", datetime(2026, 10, 20, tzinfo=UTC), cancelled=True),
        order("4", "x", datetime(2026, 9, 30, tzinfo=UTC)),  # first order before the period
        order("5", "x", datetime(2026, 11, 2, tzinfo=UTC)),
        order("6", "r", datetime(2026, 10, 2, tzinfo=UTC), rejected=True),  # no customer
        order("7", "n", datetime(2026, 11, 10, tzinfo=UTC)),
    ]
    [october, november] = c.cohort_values(orders, PERIOD, NOW, months=4)
    assert (october.cohort, october.customers, october.repeat_customers) == ("2026-10", 2, 1)
    # month 0: a's 10 and b's cancelled 0; month 2: a's 10 less the 4 refunded
    assert october.value_by_month == [Decimal("5"), Decimal("5"), Decimal("8"), None]
    assert october.lifetime_value == Decimal("8")
    assert (november.cohort, november.customers) == ("2026-11", 1)  # n; x is older
    assert november.value_by_month == [Decimal("10"), Decimal("10"), None, None]


def test_top_customers_by_value_net_of_returns_shown_by_subject() -> None:
    refund = f.ReturnFact(None, (), Decimal("15"))
    orders = [
        order("1", "h1", NOW, "20", subject="subj_1", customer_id="k1"),
        order("2", "h2", NOW, "18", subject="subj_2"),
        order("3", "h1", NOW, "10", returns=(refund,)),
        order("4", "h3", NOW, "30", rejected=True, subject="subj_3"),
    ]
    rows = c.top_customers(orders, top=5)
    assert [(r.customer, r.customer_id, r.orders) for r in rows] == [
        ("subj_2", None, 1),
        ("subj_1", "k1", 2),
    ]
    assert rows[1].revenue_after_cancellations_and_returns == Decimal("15")


def test_an_erased_buyers_order_is_tied_to_nobody_when_replayed() -> None:
    """ADR 0128: after an erasure the replayed OrderPlaced opens to the placeholder
    e-mail; the fact must come back as the erasure left it, with no customer id."""

    def subject_of(email: str) -> str:
        return f"subj_{len(email)}"

    known = c.buyer_links("Zoe.Walk@Example.de ", "cust-7", subject_of)
    assert known == {
        "customer": c.customer_key("zoe.walk@example.de"),
        "customer_id": "cust-7",
        "subject": "subj_20",
    }
    assert c.buyer_links("zoe@example.de", "cust-7", None)["subject"] is None
    erased = c.buyer_links(
        "p-6a9fce546100dae65f13beb562009d0a@pseudonym.invalid", "cust-7", subject_of
    )
    assert erased == {"customer": None, "customer_id": None, "subject": None}
