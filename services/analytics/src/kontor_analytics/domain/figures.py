"""The key figures, computed from plain facts: pure, one function per figure.

Every definition is stated in ``docs/analytics.md``; the functions here are those
definitions. A period is half-open, ``[start, end)``. Order figures count the orders
*placed* in the period (a later cancellation or return counts against the period the
order was placed in); session figures count the sessions *started* in it.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from kontor_servicekit.clock import BERLIN
from kontor_servicekit.domain_errors import Invalid

from kontor_analytics.domain.sessions import Session

ZERO = Decimal("0")
FUNNEL_STEPS = ("view_item", "add_to_cart", "begin_checkout", "purchase")


def ratio(part: float | int | Decimal, whole: float | int | Decimal) -> float | None:
    """``part / whole`` to four places; None when there is nothing to divide by."""
    if not whole:
        return None
    return round(float(part) / float(whole), 4)


def change(
    current: float | int | Decimal | None, before: float | int | Decimal | None
) -> float | None:
    """Relative change against the earlier value; None when there was none."""
    if current is None or before is None or not before:
        return None
    return round((float(current) - float(before)) / float(before), 4)


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    def previous(self) -> Period:
        """The period of the same length right before this one."""
        length = self.end - self.start
        return Period(self.start - length, self.start)

    def last_year(self) -> Period:
        """The same dates a year earlier (29 February becomes the 28th)."""
        return Period(_year_back(self.start), _year_back(self.end))

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def _year_back(moment: datetime) -> datetime:
    try:
        return moment.replace(year=moment.year - 1)
    except ValueError:
        return moment.replace(year=moment.year - 1, day=28)


# --------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class SoldLine:
    sku: str
    quantity: int
    gross: Decimal


@dataclass(frozen=True)
class ReturnedLine:
    sku: str
    quantity: int
    reason: str


@dataclass(frozen=True)
class ReturnFact:
    requested_at: datetime | None
    lines: tuple[ReturnedLine, ...]
    refund: Decimal | None = None


@dataclass(frozen=True)
class OrderFact:
    order_id: str
    placed_at: datetime
    gross: Decimal
    net: Decimal
    lines: tuple[SoldLine, ...]
    customer: str | None = None
    channel: str = "webshop"
    cancelled: bool = False
    rejected: bool = False
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    returns: tuple[ReturnFact, ...] = ()
    number: str | None = None
    coupons: tuple[str, ...] = ()
    coupon_discounts: Mapping[str, Decimal] | None = None
    discount_gross: Decimal | None = None
    subject: str | None = None
    """The buyer's pseudonymous subject id (ADR 0034), None once erased or unknown."""
    customer_id: str | None = None

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def cancelled_gross(self) -> Decimal:
        return self.gross if self.cancelled else ZERO

    @property
    def refunded_gross(self) -> Decimal:
        """Refunds of its completed returns (none counted for a cancelled order)."""
        if self.cancelled:
            return ZERO
        return sum((r.refund or ZERO for r in self.returns), start=ZERO)

    @property
    def kept_gross(self) -> Decimal:
        """Gross after cancellation and refunds: what the order finally brought in."""
        return self.gross - self.cancelled_gross - self.refunded_gross

    def discount_of(self, code: str) -> Decimal:
        """The share of the discount that ``code`` gave (ADR 0050: a single code without
        the per-code split takes the whole discount; several without it: unknown, 0)."""
        if self.coupon_discounts is not None:
            return self.coupon_discounts.get(code, ZERO)
        if len(self.coupons) == 1 and self.discount_gross is not None:
            return self.discount_gross
        return ZERO

    @property
    def kept(self) -> bool:
        """Neither rejected nor cancelled: goods that went (or go) to the customer."""
        return not (self.cancelled or self.rejected)


@dataclass(frozen=True)
class ProductFact:
    sku: str
    name: str | None = None
    category: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    on_hand: int | None = None


@dataclass(frozen=True)
class InvoiceFact:
    invoice_id: str
    issued_at: datetime
    due_at: datetime
    gross: Decimal
    paid_at: datetime | None = None
    overdue: bool = False


# --------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class Filter:
    """The dashboard's filters (docs/analytics.md): a product category, a sales channel.

    With a category, an order counts with its lines of that category only (their gross,
    the net in the same proportion, no shipping), its returns with those lines (a
    completed return's refund in proportion to the pieces), and a session when it viewed
    or bought an item of it. With a channel, the orders of that sales channel; the
    storefront's sessions are the ``webshop`` channel's."""

    category: str | None = None
    channel: str | None = None

    @property
    def active(self) -> bool:
        return self.category is not None or self.channel is not None

    def orders(
        self, orders: Iterable[OrderFact], products: Mapping[str, ProductFact]
    ) -> list[OrderFact]:
        kept = [o for o in orders if self.channel is None or o.channel == self.channel]
        if self.category is None:
            return kept
        skus = {sku for sku, p in products.items() if p.category == self.category}
        return [narrowed for o in kept if (narrowed := _narrowed(o, skus)) is not None]

    def sessions(self, sessions: Iterable[Session]) -> list[Session]:
        if self.channel not in (None, WEBSHOP):
            return []
        if self.category is None:
            return list(sessions)
        wanted = self.category
        return [
            s for s in sessions if wanted in s.categories_viewed or wanted in s.categories_purchased
        ]


WEBSHOP = "webshop"
NO_FILTER = Filter()


def _narrowed(order: OrderFact, skus: set[str]) -> OrderFact | None:
    lines = tuple(line for line in order.lines if line.sku in skus)
    if not lines:
        return None
    gross = sum((line.gross for line in lines), start=ZERO)
    returns = []
    for ret in order.returns:
        mine = tuple(r for r in ret.lines if r.sku in skus)
        pieces = sum(r.quantity for r in ret.lines)
        refund = None
        if ret.refund is not None and pieces:
            refund = ret.refund * sum(r.quantity for r in mine) / pieces
        if mine:
            returns.append(replace(ret, lines=mine, refund=refund))
    net = order.net * gross / order.gross if order.gross else ZERO
    return replace(order, lines=lines, gross=gross, net=net, returns=tuple(returns))


# --------------------------------------------------------------------------- sales


@dataclass(frozen=True)
class Sales:
    orders: int
    revenue_gross: Decimal
    revenue_net: Decimal
    cancelled_gross: Decimal
    refunded_gross: Decimal
    units: int
    new_customers: int
    returning_customers: int

    @property
    def revenue_after_cancellations_and_returns(self) -> Decimal:
        return self.revenue_gross - self.cancelled_gross - self.refunded_gross

    @property
    def average_order_value(self) -> Decimal | None:
        return None if not self.orders else self.revenue_gross / self.orders

    @property
    def units_per_order(self) -> float | None:
        return ratio(self.units, self.orders)


def sales(
    orders: Iterable[OrderFact], period: Period, first_orders: Mapping[str, datetime]
) -> Sales:
    """Orders placed in the period and not rejected; ``first_orders``: each customer's
    first order ever (a customer whose first order is in the period is new)."""
    placed = [o for o in orders if not o.rejected]
    customers = {o.customer for o in placed if o.customer}
    new = {c for c in customers if first_orders.get(c, period.start) >= period.start}
    return Sales(
        orders=len(placed),
        revenue_gross=sum((o.gross for o in placed), start=ZERO),
        revenue_net=sum((o.net for o in placed), start=ZERO),
        cancelled_gross=sum((o.cancelled_gross for o in placed), start=ZERO),
        refunded_gross=sum((o.refunded_gross for o in placed), start=ZERO),
        units=sum(o.units for o in placed),
        new_customers=len(new),
        returning_customers=len(customers - new),
    )


# --------------------------------------------------------------------------- returns


@dataclass(frozen=True)
class ReturnRow:
    key: str
    units_sold: int
    units_returned: int

    @property
    def rate(self) -> float | None:
        return ratio(self.units_returned, self.units_sold)


@dataclass(frozen=True)
class Returns:
    overall: ReturnRow
    by_sku: list[ReturnRow]
    by_reason: list[ReturnRow]
    by_category: list[ReturnRow]
    by_attribute: list[ReturnRow]
    median_days_delivery_to_return: float | None


def returns(orders: Iterable[OrderFact], products: Mapping[str, ProductFact]) -> Returns:
    """Units returned (requested) of the kept orders placed in the period, against the
    units sold in them; by reason the denominator is every unit sold."""
    kept = [o for o in orders if o.kept]
    sold: Counter[str] = Counter()
    back: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    days: list[float] = []
    for order in kept:
        for line in order.lines:
            sold[line.sku] += line.quantity
        for ret in order.returns:
            for r in ret.lines:
                back[r.sku] += r.quantity
                reasons[r.reason] += r.quantity
            if order.delivered_at is not None and ret.requested_at is not None:
                days.append((ret.requested_at - order.delivered_at) / timedelta(days=1))
    total_sold, total_back = sum(sold.values()), sum(back.values())

    def grouped(key_of: Mapping[str, Sequence[str]]) -> list[ReturnRow]:
        s: Counter[str] = Counter()
        b: Counter[str] = Counter()
        for sku, n in sold.items():
            for key in key_of.get(sku, ()):
                s[key] += n
        for sku, n in back.items():
            for key in key_of.get(sku, ()):
                b[key] += n
        return _rows(s, b)

    category = {sku: [(products.get(sku) or ProductFact(sku)).category or "(none)"] for sku in sold}
    attributes = {
        sku: [
            f"{k}={v}"
            for k, v in sorted((products.get(sku) or ProductFact(sku)).attributes.items())
        ]
        for sku in sold
    }
    return Returns(
        overall=ReturnRow("all", total_sold, total_back),
        by_sku=_rows(sold, back),
        by_reason=sorted(
            (ReturnRow(reason, total_sold, n) for reason, n in reasons.items()),
            key=lambda r: (-r.units_returned, r.key),
        ),
        by_category=grouped(category),
        by_attribute=grouped(attributes),
        median_days_delivery_to_return=None if not days else round(statistics.median(days), 2),
    )


def _product(products: Mapping[str, ProductFact], sku: str) -> ProductFact:
    return products.get(sku) or ProductFact(sku)


def _rows(sold: Counter[str], back: Counter[str]) -> list[ReturnRow]:
    keys = set(sold) | set(back)
    rows = [ReturnRow(k, sold.get(k, 0), back.get(k, 0)) for k in keys]
    return sorted(rows, key=lambda r: (-r.units_returned, -r.units_sold, r.key))


# --------------------------------------------------------------------------- fulfilment


@dataclass(frozen=True)
class Fulfilment:
    orders: int
    shipped: int
    delivered: int
    median_hours_to_ship: float | None
    mean_hours_to_ship: float | None
    median_hours_to_deliver: float | None
    mean_hours_to_deliver: float | None
    shipped_on_time: int
    promised_hours: int

    @property
    def on_time_rate(self) -> float | None:
        return ratio(self.shipped_on_time, self.shipped)


def fulfilment(orders: Iterable[OrderFact], promised_hours: int) -> Fulfilment:
    """Of the kept orders placed in the period: hours from placing to the first
    shipment and to the (last) delivery; on time: shipped within ``promised_hours``."""
    kept = [o for o in orders if o.kept]
    hour = timedelta(hours=1)
    ship = [(o.shipped_at - o.placed_at) / hour for o in kept if o.shipped_at is not None]
    deliver = [(o.delivered_at - o.placed_at) / hour for o in kept if o.delivered_at is not None]
    return Fulfilment(
        orders=len(kept),
        shipped=len(ship),
        delivered=len(deliver),
        median_hours_to_ship=_median(ship),
        mean_hours_to_ship=_mean(ship),
        median_hours_to_deliver=_median(deliver),
        mean_hours_to_deliver=_mean(deliver),
        shipped_on_time=sum(1 for h in ship if h <= promised_hours),
        promised_hours=promised_hours,
    )


def _median(values: Sequence[float]) -> float | None:
    return None if not values else round(statistics.median(values), 2)


def _mean(values: Sequence[float]) -> float | None:
    return None if not values else round(statistics.fmean(values), 2)


# --------------------------------------------------------------------------- sessions


@dataclass(frozen=True)
class ConversionRow:
    key: str
    sessions: int
    sessions_with_purchase: int

    @property
    def rate(self) -> float | None:
        return ratio(self.sessions_with_purchase, self.sessions)


@dataclass(frozen=True)
class Conversion:
    overall: ConversionRow
    by_source: list[ConversionRow]
    by_campaign: list[ConversionRow]
    by_product: list[ConversionRow]
    by_category: list[ConversionRow]


def conversion(sessions: Iterable[Session]) -> Conversion:
    """Sessions started in the period, and those of them with a purchase. Per source
    and campaign: the session's; per product (category): sessions that viewed it and
    sessions that bought it."""
    every = list(sessions)

    def rows(pairs: Iterable[tuple[str, bool]]) -> list[ConversionRow]:
        seen: Counter[str] = Counter()
        bought: Counter[str] = Counter()
        for key, purchased in pairs:
            seen[key] += 1
            bought[key] += purchased
        found = [ConversionRow(k, seen[k], bought[k]) for k in seen]
        return sorted(found, key=lambda r: (-r.sessions, r.key))

    def item_rows(viewed: str, purchased: str) -> list[ConversionRow]:
        seen: Counter[str] = Counter()
        bought: Counter[str] = Counter()
        for s in every:
            seen.update(getattr(s, viewed))
            bought.update(getattr(s, purchased))
        found = [ConversionRow(k, seen[k], bought[k]) for k in set(seen) | set(bought)]
        return sorted(found, key=lambda r: (-r.sessions, r.key))

    return Conversion(
        overall=ConversionRow("all", len(every), sum(1 for s in every if s.purchased_any)),
        by_source=rows((s.source.label, s.purchased_any) for s in every),
        by_campaign=rows((s.source.campaign, s.purchased_any) for s in every if s.source.campaign),
        by_product=item_rows("viewed", "purchased"),
        by_category=item_rows("categories_viewed", "categories_purchased"),
    )


@dataclass(frozen=True)
class Step:
    step: str
    sessions: int
    next_sessions: int | None

    @property
    def drop_off_rate(self) -> float | None:
        """Share of this step's sessions that did not reach the next (None: last step)."""
        if self.next_sessions is None:
            return None
        return ratio(self.sessions - self.next_sessions, self.sessions)


@dataclass(frozen=True)
class ErrorCost:
    reason: str
    sessions: int
    sessions_lost: int
    value_lost: Decimal


@dataclass(frozen=True)
class Funnel:
    steps: list[Step]
    cart_sessions: int
    abandoned_sessions: int
    abandoned_value: Decimal
    checkout_errors: list[ErrorCost]

    @property
    def abandonment_rate(self) -> float | None:
        return ratio(self.abandoned_sessions, self.cart_sessions)


def funnel(sessions: Iterable[Session], steps: Sequence[str] = FUNNEL_STEPS) -> Funnel:
    """Closed funnel: a session counts at a step when it reached that step and every one
    before it. Abandoned: a session with add_to_cart and no purchase; its value is what
    was left in the cart. A checkout error's lost sessions: those with it and no purchase."""
    every = list(sessions)
    counts = []
    for index in range(len(steps)):
        needed = set(steps[: index + 1])
        counts.append(sum(1 for s in every if needed <= s.steps))
    rows = [
        Step(step, counts[i], counts[i + 1] if i + 1 < len(steps) else None)
        for i, step in enumerate(steps)
    ]
    carts = [s for s in every if "add_to_cart" in s.steps]
    abandoned = [s for s in carts if not s.purchased_any]
    errors: dict[str, list[Session]] = defaultdict(list)
    for s in every:
        for reason in set(s.errors):
            errors[reason].append(s)
    costs = [
        ErrorCost(
            reason,
            len(hit),
            sum(1 for s in hit if not s.purchased_any),
            sum((s.cart_value for s in hit if not s.purchased_any), start=ZERO),
        )
        for reason, hit in errors.items()
    ]
    return Funnel(
        steps=rows,
        cart_sessions=len(carts),
        abandoned_sessions=len(abandoned),
        abandoned_value=sum((s.cart_value for s in abandoned), start=ZERO),
        checkout_errors=sorted(costs, key=lambda c: (-c.sessions_lost, -c.value_lost, c.reason)),
    )


# --------------------------------------------------------------------------- payments


@dataclass(frozen=True)
class Payments:
    invoices: int
    paid: int
    overdue: int
    mean_days_to_pay: float | None

    @property
    def overdue_rate(self) -> float | None:
        return ratio(self.overdue, self.invoices)


def payments(invoices: Iterable[InvoiceFact]) -> Payments:
    """Invoices issued in the period: paid ones, days from issue to the first payment,
    and the share that became overdue (a PaymentOverdue at any dunning level)."""
    every = list(invoices)
    days = [(i.paid_at - i.issued_at) / timedelta(days=1) for i in every if i.paid_at]
    return Payments(
        invoices=len(every),
        paid=len(days),
        overdue=sum(1 for i in every if i.overdue),
        mean_days_to_pay=_mean(days),
    )


# --------------------------------------------------------------------------- assortment


@dataclass(frozen=True)
class ProductRow:
    sku: str
    units_sold: int
    on_hand: int | None
    cover_days: float | None


@dataclass(frozen=True)
class Assortment:
    top_sellers: list[ProductRow]
    slow_movers: list[ProductRow]


def assortment(
    orders: Iterable[OrderFact], products: Mapping[str, ProductFact], days: int, top: int = 10
) -> Assortment:
    """From the kept orders of the last ``days`` days: units sold per SKU; slow movers
    have stock on hand and no sale; stock cover = on hand / (units sold per day)."""
    sold: Counter[str] = Counter()
    for order in orders:
        if order.kept:
            for line in order.lines:
                sold[line.sku] += line.quantity

    def row(sku: str) -> ProductRow:
        on_hand = _product(products, sku).on_hand
        per_day = sold[sku] / days
        cover = None if on_hand is None or not per_day else round(on_hand / per_day, 1)
        return ProductRow(sku, sold[sku], on_hand, cover)

    tops = [row(sku) for sku, _ in sorted(sold.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]
    slow = [
        row(sku)
        for sku, product in sorted(products.items())
        if (product.on_hand or 0) > 0 and not sold[sku]
    ]
    return Assortment(tops, slow)


def period_of(
    start: datetime | date | None, end: datetime | date | None, now: datetime, days: int = 30
) -> Period:
    """A query's period: a moment as given, a plain date as its whole day in Berlin
    (``to`` inclusive of that day); without ``to`` up to now, without ``from`` the
    ``days`` before ``to``."""
    upper = now if end is None else end if isinstance(end, datetime) else _berlin(end + ONE_DAY)
    lower = (
        upper - timedelta(days=days)
        if start is None
        else start
        if isinstance(start, datetime)
        else _berlin(start)
    )
    if not EARLIEST <= lower < LATEST:
        raise Invalid("from must lie between 2000 and 2100", field=("from",), location="query")
    if not EARLIEST < upper <= LATEST:
        raise Invalid("to must lie between 2000 and 2100", field=("to",), location="query")
    if upper <= lower:
        raise Invalid("to must come after from", field=("to",), location="query")
    return Period(lower, upper)


ONE_DAY = timedelta(days=1)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
"""Periods stay within this century: their comparison periods reach back twice as far."""


def _berlin(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BERLIN).astimezone(UTC)


# --------------------------------------------------------------------------- over time


@dataclass(frozen=True)
class Day:
    day: date
    revenue_gross: Decimal
    orders: int
    cart_sessions: int
    abandoned_sessions: int

    @property
    def abandonment_rate(self) -> float | None:
        return ratio(self.abandoned_sessions, self.cart_sessions)


def days(orders: Iterable[OrderFact], sessions: Iterable[Session], period: Period) -> list[Day]:
    """Per Berlin day of the period: revenue (orders not rejected) and abandonment."""
    first = period.start.astimezone(BERLIN).date()
    last = (period.end - timedelta(microseconds=1)).astimezone(BERLIN).date()
    revenue: dict[date, Decimal] = defaultdict(lambda: ZERO)
    count: Counter[date] = Counter()
    carts: Counter[date] = Counter()
    left: Counter[date] = Counter()
    for order in orders:
        if not order.rejected:
            day = order.placed_at.astimezone(BERLIN).date()
            revenue[day] += order.gross
            count[day] += 1
    for session in sessions:
        if "add_to_cart" in session.steps:
            day = session.started_at.astimezone(BERLIN).date()
            carts[day] += 1
            left[day] += not session.purchased_any
    found: list[Day] = []
    day = first
    while day <= last and len(found) < 400:
        found.append(Day(day, revenue[day], count[day], carts[day], left[day]))
        day += ONE_DAY
    return found


@dataclass(frozen=True)
class Cohort:
    week: str
    customers: int
    shares: list[float | None]
    """Per week since the first order: the share of the cohort that ordered that week."""


def cohorts(orders: Iterable[OrderFact], now: datetime, weeks: int = 6) -> list[Cohort]:
    """Customers by the ISO week of their first order (the last ``weeks`` cohorts), and
    which share of each ordered again in each following week (week 0 is 100 %)."""
    by_customer: dict[str, list[datetime]] = defaultdict(list)
    for order in orders:
        if order.customer and not order.rejected:
            by_customer[order.customer].append(order.placed_at)

    def monday(moment: datetime) -> date:
        day = moment.astimezone(BERLIN).date()
        return day - timedelta(days=day.weekday())

    this_week = monday(now)
    members: dict[date, list[set[int]]] = defaultdict(list)
    for placed in by_customer.values():
        start = monday(min(placed))
        members[start].append({(monday(p) - start).days // 7 for p in placed})
    found = []
    for start in sorted(members)[-weeks:]:
        group = members[start]
        reached = (this_week - start).days // 7
        shares: list[float | None] = [
            None if k > reached else ratio(sum(1 for g in group if k in g), len(group))
            for k in range(weeks)
        ]
        iso = start.isocalendar()
        found.append(Cohort(f"{iso.year}-W{iso.week:02d}", len(group), shares))
    return found
