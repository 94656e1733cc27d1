"""The figure definitions of docs/analytics.md on small hand-made facts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from kontor_analytics.domain import figures as f
from kontor_analytics.domain.alerts import Rule, return_rate_by_sku
from kontor_analytics.domain.collect import Hit
from kontor_analytics.domain.sessions import Session

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
PERIOD = f.Period(T0 - timedelta(days=1), T0 + timedelta(days=1))


def order(oid: str, gross: str, *lines: tuple[str, int], **fate: object) -> f.OrderFact:
    return f.OrderFact(
        order_id=oid,
        placed_at=T0,
        gross=Decimal(gross),
        net=(Decimal(gross) / Decimal("1.19")).quantize(Decimal("0.01")),
        lines=tuple(f.SoldLine(sku, q, Decimal("10")) for sku, q in lines),
        **fate,  # type: ignore[arg-type]
    )


def session(*steps: str, errors: tuple[str, ...] = (), cart: str = "0") -> Session:
    s = Session.start("k", "c", Hit("page_view", T0, {}))
    s.steps = set(steps)
    s.errors = list(errors)
    s.cart_value = Decimal(cart)
    return s


def test_sales_net_of_cancellations_and_refunds() -> None:
    back = f.ReturnFact(T0, (f.ReturnedLine("A", 1, "too_small"),), Decimal("10"))
    orders = [
        order("1", "30", ("A", 3), returns=(back,), customer="x"),
        order("2", "20", ("B", 2), cancelled=True, customer="y"),
        order("3", "99", ("B", 1), rejected=True),
    ]
    sales = f.sales(orders, PERIOD, {"x": T0 - timedelta(days=30), "y": T0})
    assert (sales.orders, sales.revenue_gross, sales.cancelled_gross) == (2, 50, 20)
    assert sales.refunded_gross == 10
    assert sales.revenue_after_cancellations_and_returns == 20
    assert sales.average_order_value == 25
    assert sales.units_per_order == 2.5
    assert (sales.new_customers, sales.returning_customers) == (1, 1)


def test_returns_by_sku_reason_and_attribute_over_kept_orders() -> None:
    back = f.ReturnFact(T0, (f.ReturnedLine("TEE-M", 1, "too_small"),))
    orders = [
        order("1", "40", ("TEE-M", 2), ("CAP", 2), returns=(back,)),
        order("2", "40", ("TEE-M", 4), cancelled=True),
    ]
    products = {"TEE-M": f.ProductFact("TEE-M", category="Shirts", attributes={"size": "M"})}
    found = f.returns(orders, products)
    assert (found.overall.units_sold, found.overall.units_returned, found.overall.rate) == (
        4,
        1,
        0.25,
    )
    assert {r.key: r.rate for r in found.by_sku} == {"TEE-M": 0.5, "CAP": 0.0}
    assert [(r.key, r.rate) for r in found.by_reason] == [("too_small", 0.25)]
    assert {r.key: r.rate for r in found.by_attribute} == {"size=M": 0.5}
    assert {r.key: r.rate for r in found.by_category} == {"Shirts": 0.5, "(none)": 0.0}


def test_the_closed_funnel_abandonment_and_error_costs() -> None:
    sessions = [
        session("view_item", "add_to_cart", "begin_checkout", "purchase"),
        session("view_item", "add_to_cart", "begin_checkout", errors=("card",), cart="20"),
        session("view_item"),
        session("add_to_cart", "begin_checkout", "purchase"),  # skipped the first step
    ]
    funnel = f.funnel(sessions)
    assert [(s.step, s.sessions, s.drop_off_rate) for s in funnel.steps] == [
        ("view_item", 3, 0.3333),
        ("add_to_cart", 2, 0.0),
        ("begin_checkout", 2, 0.5),
        ("purchase", 1, None),
    ]
    assert (funnel.cart_sessions, funnel.abandoned_sessions, funnel.abandonment_rate) == (
        3,
        1,
        0.3333,
    )
    assert funnel.abandoned_value == 20
    [cost] = funnel.checkout_errors
    assert (cost.reason, cost.sessions, cost.sessions_lost, cost.value_lost) == ("card", 1, 1, 20)
    assert f.conversion(sessions).overall.rate == 0.5


def test_plain_dates_are_whole_days_in_berlin() -> None:
    period = f.period_of(date(2026, 12, 1), date(2026, 12, 1), T0)
    assert period.start == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert period.end == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    summer = f.period_of(date(2026, 7, 1), date(2026, 7, 2), T0)
    assert (summer.start.hour, summer.end - summer.start) == (22, timedelta(days=2))
    assert period.previous() == f.Period(period.start - timedelta(days=1), period.start)
    assert f.change(12, 10) == 0.2 and f.change(1, 0) is None


def test_a_sku_is_judged_only_from_enough_orders() -> None:
    back = f.ReturnFact(T0, (f.ReturnedLine("A", 1, "x"),))
    orders = [order(str(i), "10", ("A", 1), returns=(back,) if i < 2 else ()) for i in range(4)]
    rule = Rule("r", "return_rate_sku", Decimal("0.3"), min_count=5)
    [seen] = return_rate_by_sku(rule, orders, PERIOD)
    assert (seen.value, seen.breached) == (Decimal("0.5000"), False)
    enough = return_rate_by_sku(
        Rule("r", "return_rate_sku", Decimal("0.3"), min_count=4), orders, PERIOD
    )
    assert enough[0].breached


def test_periods_outside_the_century_or_backwards_are_refused() -> None:
    from kontor_servicekit.domain_errors import Invalid

    for start, end, where in (
        (date(86, 11, 1), None, ("from",)),
        (date(2026, 1, 1), date(2150, 1, 1), ("to",)),
        (date(2026, 12, 2), date(2026, 12, 1), ("to",)),
    ):
        with pytest.raises(Invalid) as refused:
            f.period_of(start, end, T0)
        assert refused.value.field == where


def test_a_category_filter_keeps_its_lines_and_its_share_of_a_refund() -> None:
    refund = f.ReturnFact(
        T0, (f.ReturnedLine("A", 1, "too_small"), f.ReturnedLine("B", 3, "x")), Decimal("40")
    )
    both = order("o1", "30", ("A", 1), ("B", 2), returns=(refund,))
    other = order("o2", "20", ("B", 2), channel="marketplace")
    products = {"A": f.ProductFact("A", category="Shirts"), "B": f.ProductFact("B")}
    [narrowed] = f.Filter(category="Shirts").orders([both, other], products)
    assert (narrowed.gross, narrowed.lines) == (Decimal("10"), (both.lines[0],))
    assert narrowed.net == both.net * Decimal("10") / Decimal("30")
    assert [(r.lines, r.refund) for r in narrowed.returns] == [(refund.lines[:1], Decimal("10"))]
    assert f.Filter(channel="marketplace").orders([both, other], products) == [other]
    assert f.Filter(channel="marketplace").sessions([session("view_item")]) == []
    shirts = session("view_item")
    shirts.categories_viewed = {"Shirts"}
    assert f.Filter(category="Shirts").sessions([shirts, session("view_item")]) == [shirts]
