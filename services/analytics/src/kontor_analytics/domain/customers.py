"""Customers: repeat rate, lifetime value by first-order cohort, top customers. Pure.

A customer is the read model's key of the buyer (a hash of the e-mail; ADR 0091), shown
by their keyed subject id (ADR 0034) and, when the shop gave one, their customer id:
never by name or address. Orders count when not rejected; their value is net of
cancellations and of the refunds of completed returns (``OrderFact.kept_gross``), in the
month the order was placed.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from kontor_contracts.placeholders import is_placeholder
from kontor_servicekit.clock import BERLIN

from kontor_analytics.domain.figures import ZERO, OrderFact, Period, ratio


def month_of(moment: datetime) -> tuple[int, int]:
    local = moment.astimezone(BERLIN)
    return local.year, local.month


def months_between(first: tuple[int, int], later: tuple[int, int]) -> int:
    return (later[0] - first[0]) * 12 + later[1] - first[1]


@dataclass(frozen=True)
class CohortValue:
    cohort: str
    """The Berlin month of the first order, ``2026-11``."""
    customers: int
    repeat_customers: int
    orders: int
    revenue: Decimal
    """Net of cancellations and returns, every order of the cohort's customers to date."""
    value_by_month: list[Decimal | None]
    """Per month since the first (0 = that month): the cumulative value per customer;
    None for months that have not come yet."""

    @property
    def lifetime_value(self) -> Decimal | None:
        """Value per customer so far."""
        return None if not self.customers else self.revenue / self.customers

    @property
    def repeat_rate(self) -> float | None:
        return ratio(self.repeat_customers, self.customers)


def _kept_by_customer(orders: Iterable[OrderFact]) -> dict[str, list[OrderFact]]:
    found: dict[str, list[OrderFact]] = defaultdict(list)
    for order in orders:
        if order.customer and not order.rejected:
            found[order.customer].append(order)
    return found


def cohort_values(
    orders: Iterable[OrderFact], period: Period, now: datetime, months: int = 12
) -> list[CohortValue]:
    """The customers whose first order lies in the period, by its month; ``orders``: at
    least every order of theirs."""
    current = month_of(now)
    members: dict[tuple[int, int], list[list[OrderFact]]] = defaultdict(list)
    for placed in _kept_by_customer(orders).values():
        first = min(o.placed_at for o in placed)
        if first in period:
            members[month_of(first)].append(placed)
    found = []
    for start in sorted(members):
        group = members[start]
        reached = months_between(start, current)
        per_month = [ZERO] * months
        for placed in group:
            for order in placed:
                k = months_between(start, month_of(order.placed_at))
                for later in range(max(k, 0), months):
                    per_month[later] += order.kept_gross
        n = len(group)
        found.append(
            CohortValue(
                cohort=f"{start[0]}-{start[1]:02d}",
                customers=n,
                repeat_customers=sum(1 for placed in group if len(placed) > 1),
                orders=sum(len(placed) for placed in group),
                revenue=sum((o.kept_gross for placed in group for o in placed), start=ZERO),
                value_by_month=[None if k > reached else per_month[k] / n for k in range(months)],
            )
        )
    return found


@dataclass(frozen=True)
class CustomerRow:
    customer: str
    customer_id: str | None
    orders: int
    revenue_gross: Decimal
    revenue_after_cancellations_and_returns: Decimal


def top_customers(orders: Iterable[OrderFact], top: int = 10) -> list[CustomerRow]:
    """The period's customers by their orders' value net of cancellations and returns."""
    rows = []
    for placed in _kept_by_customer(orders).values():
        shown = next((o for o in placed if o.subject), placed[0])
        rows.append(
            CustomerRow(
                customer=shown.subject or str(shown.customer),
                customer_id=next((o.customer_id for o in placed if o.customer_id), None),
                orders=len(placed),
                revenue_gross=sum((o.gross for o in placed), start=ZERO),
                revenue_after_cancellations_and_returns=sum(
                    (o.kept_gross for o in placed), start=ZERO
                ),
            )
        )
    rows.sort(key=lambda r: (-r.revenue_after_cancellations_and_returns, -r.orders, r.customer))
    return rows[:top]


@dataclass(frozen=True)
class Customers:
    customers: int
    new_customers: int
    repeat_customers: int
    """Of the period's customers, those with more than one order up to the period's end."""
    revenue: Decimal
    """The period's orders, net of cancellations and returns."""
    cohorts: list[CohortValue]
    top: list[CustomerRow]

    @property
    def returning_customers(self) -> int:
        return self.customers - self.new_customers

    @property
    def repeat_rate(self) -> float | None:
        return ratio(self.repeat_customers, self.customers)

    @property
    def revenue_per_customer(self) -> Decimal | None:
        return None if not self.customers else self.revenue / self.customers


def customers(
    in_period: Iterable[OrderFact],
    theirs: Iterable[OrderFact],
    period: Period,
    now: datetime,
    *,
    top: int = 10,
    months: int = 12,
) -> Customers:
    """``in_period``: the orders placed in the period; ``theirs``: every order of the
    customers of those orders and of the customers whose first order is in it."""
    placed = _kept_by_customer(in_period)
    ever: Mapping[str, list[OrderFact]] = _kept_by_customer(theirs)
    before_end = {
        c: [o for o in ever.get(c, placed[c]) if o.placed_at < period.end] for c in placed
    }
    return Customers(
        customers=len(placed),
        new_customers=sum(
            1 for c in placed if min(o.placed_at for o in before_end[c]) >= period.start
        ),
        repeat_customers=sum(1 for c in placed if len(before_end[c]) > 1),
        revenue=sum((o.kept_gross for group in placed.values() for o in group), start=ZERO),
        cohorts=cohort_values(theirs, period, now, months),
        top=top_customers((o for group in placed.values() for o in group), top),
    )


def customer_key(email: str) -> str:
    """A stable pseudonym of the customer (new vs returning) that is not the address."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def buyer_links(
    email: str, customer_id: str | None, subject_of: Callable[[str], str] | None
) -> dict[str, str | None]:
    """What ties an order fact to its buyer: the key of the e-mail (ADR 0091), the shop's
    customer id and the keyed subject id (``subject_of``; None without the privacy key).

    An order whose e-mail is a placeholder (``p-…@pseudonym.invalid``: the buyer was
    erased and the event can no longer be opened, ADR 0036) has none of them, as the
    erasure left the fact (ADR 0094): a replay of the topic must not tie it to the
    person again (ADR 0128).
    """
    if is_placeholder(email):
        return {"customer": None, "customer_id": None, "subject": None}
    return {
        "customer": customer_key(email),
        "customer_id": customer_id,
        "subject": None if subject_of is None else subject_of(email),
    }
