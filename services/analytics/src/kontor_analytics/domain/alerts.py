"""Alert rules on the figures, and what each observes. Pure.

A rule is evaluated now and then (a sweeper); each evaluation observes the rule's figure
per subject (a SKU, or the whole shop). A subject is *breached* while its figure is past
the threshold; a breach is announced once, when it starts, and ends when the figure
recovers, so the next crossing is a new breach.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from kontor_analytics.domain.figures import OrderFact, Period, ProductFact
from kontor_analytics.domain.sessions import Session

Kind = Literal[
    "return_rate_sku", "checkout_error_rate", "conversion_drop", "top_seller_out_of_stock"
]
KINDS: tuple[Kind, ...] = (
    "return_rate_sku",
    "checkout_error_rate",
    "conversion_drop",
    "top_seller_out_of_stock",
)


@dataclass(frozen=True)
class Rule:
    rule_id: str
    kind: Kind
    threshold: Decimal
    """return_rate_sku, checkout_error_rate: a ratio above which; conversion_drop: the
    relative fall (0.3 = 30 % below last week); top_seller_out_of_stock: unused (0)."""
    min_count: int = 1
    """Orders with the SKU (returns), sessions (checkout errors, conversion)."""
    window_hours: int = 24 * 30
    top: int = 10
    severity: str = "warning"


@dataclass(frozen=True)
class Observation:
    subject: str | None
    kpi: str
    value: Decimal
    breached: bool
    window: Period
    unit: str = "ratio"
    direction: Literal["above", "below"] = "above"


def _ratio(part: int, whole: int) -> Decimal:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")) if whole else Decimal(0)


def return_rate_by_sku(
    rule: Rule, orders: Iterable[OrderFact], window: Period
) -> list[Observation]:
    """Per SKU: pieces returned / pieces sold of the kept orders placed in the window;
    judged only from ``min_count`` orders with the SKU on."""
    sold: Counter[str] = Counter()
    back: Counter[str] = Counter()
    with_sku: Counter[str] = Counter()
    for order in orders:
        if not order.kept:
            continue
        for sku in {line.sku for line in order.lines}:
            with_sku[sku] += 1
        for line in order.lines:
            sold[line.sku] += line.quantity
        for ret in order.returns:
            for r in ret.lines:
                back[r.sku] += r.quantity
    found = []
    for sku in sorted(sold):
        value = _ratio(back[sku], sold[sku])
        judged = with_sku[sku] >= rule.min_count
        found.append(
            Observation(
                f"sku:{sku}", "return_rate", value, judged and value > rule.threshold, window
            )
        )
    return found


def checkout_error_rate(
    rule: Rule, sessions: Sequence[Session], window: Period
) -> list[Observation]:
    """Sessions with a checkout error / sessions that began a checkout, in the window."""
    checkouts = [s for s in sessions if "begin_checkout" in s.steps]
    failed = sum(1 for s in checkouts if s.errors)
    value = _ratio(failed, len(checkouts))
    judged = len(checkouts) >= rule.min_count
    return [
        Observation(None, "checkout_error_rate", value, judged and value > rule.threshold, window)
    ]


def conversion_drop(
    rule: Rule, today: Sequence[Session], last_week: Sequence[Session], window: Period
) -> list[Observation]:
    """Conversion of the day so far against the same span of the same weekday a week
    before; breached when it fell by more than ``threshold`` (relative)."""

    def rate(sessions: Sequence[Session]) -> Decimal:
        return _ratio(sum(1 for s in sessions if s.purchased_any), len(sessions))

    now_rate, then_rate = rate(today), rate(last_week)
    judged = len(today) >= rule.min_count and len(last_week) >= rule.min_count and then_rate > 0
    fall = (then_rate - now_rate) / then_rate if then_rate else Decimal(0)
    breached = judged and fall > rule.threshold
    return [Observation(None, "conversion_rate", now_rate, breached, window, direction="below")]


def top_sellers_out_of_stock(
    rule: Rule, orders: Iterable[OrderFact], products: Mapping[str, ProductFact], window: Period
) -> list[Observation]:
    """The ``top`` SKUs by pieces sold in the window; breached while one has none on hand."""
    sold: Counter[str] = Counter()
    for order in orders:
        if order.kept:
            for line in order.lines:
                sold[line.sku] += line.quantity
    tops = sorted(sold.items(), key=lambda kv: (-kv[1], kv[0]))[: rule.top]
    found = []
    for sku, _ in tops:
        on_hand = (products.get(sku) or ProductFact(sku)).on_hand
        found.append(
            Observation(
                f"sku:{sku}",
                "stock_on_hand",
                Decimal(on_hand or 0),
                on_hand is not None and on_hand <= 0,
                window,
                unit="pieces",
                direction="below",
            )
        )
    return found


def same_span_last_week(now: datetime, start_of_day: datetime) -> tuple[Period, Period]:
    """Today so far, and the same span of the same weekday a week before."""
    week = timedelta(days=7)
    return Period(start_of_day, now), Period(start_of_day - week, now - week)
