"""Campaign attribution, ROI and coupon use (domain/marketing.py) on hand-made facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from kontor_analytics.domain import figures as f
from kontor_analytics.domain import marketing as m

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
PERIOD = f.Period(T0 - timedelta(days=1), T0 + timedelta(days=1))
SPRING = m.CampaignFact("c1", "spring", coupon_code="SPRING", cost=Decimal("10"), sent_at=T0)
NEWS = m.CampaignFact("c2", "news", cost=None, sent_at=T0, recipients=4)


def order(oid: str, *codes: str, **more: object) -> f.OrderFact:
    return f.OrderFact(
        order_id=oid,
        placed_at=T0,
        gross=Decimal("30"),
        net=Decimal("25.21"),
        lines=(f.SoldLine("A", 1, Decimal("30")),),
        number=f"N-{oid}",
        coupons=codes,
        **more,  # type: ignore[arg-type]
    )


def test_a_coupon_wins_over_the_session_and_the_latest_tagged_session_decides() -> None:
    orders = [order("1", "SPRING"), order("2"), order("3"), order("4", "OTHER")]
    purchases = [
        m.SessionPurchase("N-1", "news", T0),  # has SPRING: spring's
        m.SessionPurchase("N-2", "spring", T0 - timedelta(hours=2)),
        m.SessionPurchase("N-2", "c2", T0),  # the later session: news (by its id)
        m.SessionPurchase("N-3", "unknown", T0),
    ]
    found = m.attribute(orders, [SPRING, NEWS], {"OTHER": None}, purchases)
    assert found == {"1": ("c1", "coupon"), "2": ("c2", "session")}


def test_roi_is_net_of_cancellations_and_refunds_and_none_without_a_cost() -> None:
    refund = f.ReturnFact(T0, (), Decimal("12"))
    orders = [
        order("1", "SPRING"),
        order("2", "SPRING", cancelled=True),
        order("3", "SPRING", returns=(refund,)),
        order("4", "SPRING", rejected=True),
    ]
    attributed = m.attribute(orders, [SPRING, NEWS], {}, [])
    spring, news = m.campaign_results([SPRING, NEWS], PERIOD, orders, attributed, {"SPRING": "c1"})[
        ::-1
    ]
    assert (spring.orders, spring.revenue_after_cancellations_and_returns) == (3, Decimal("48"))
    assert spring.roi == 3.8  # (48 - 10) / 10
    assert (news.orders, news.roi, news.conversion_rate) == (0, None, 0.0)
    assert SPRING.cost is not None
    assert m.Marketing([spring, news], m.coupon_use([], {})).roi == 3.8


def test_a_codes_discount_without_the_split_is_the_whole_one_for_a_single_code() -> None:
    assert order("1", "A", discount_gross=Decimal("5")).discount_of("A") == Decimal("5")
    both = order("2", "A", "B", discount_gross=Decimal("5"))
    assert both.discount_of("A") == Decimal("0")
    split = order("3", "A", "B", coupon_discounts={"A": Decimal("2"), "B": Decimal("3")})
    assert split.discount_of("B") == Decimal("3")
    use = m.coupon_use([both, split, order("4")], {"A": "c1"})
    assert (use.orders, use.orders_with_coupon, use.rate, use.discount_gross) == (
        3,
        2,
        0.6667,
        Decimal("5"),
    )
    assert [(r.code, r.campaign_id, r.orders) for r in use.by_code] == [
        ("A", "c1", 2),
        ("B", None, 2),
    ]
