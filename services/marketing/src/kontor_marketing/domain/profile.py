"""Customer profiles as the events describe them, and segments over them. Pure.

A :class:`Profile` (keyed by the normalised e-mail) is folded from orders' events: each
order with its gross, whether it was cancelled or rejected, and what returns refunded;
abandoned carts; support's tickets (opened when, open or not); the consent status. Its
figures are what a marketer filters on: orders and revenue **net of cancellations and
returns**, return rate, average order value, first and last order, last activity, an
open cart, RFM scores (1-5 each, fixed thresholds: see :func:`rfm`), and tickets (all,
open, days since the last: ``open_tickets > 0`` keeps an unhappy customer out of a
campaign).

A :class:`Segment` is a rule tree over those figures: ``{"all": [...]}`` (AND),
``{"any": [...]}`` (OR), nested freely, leaves ``{"field", "op", "value"}``. The same
pure :func:`matches` decides the size preview and the live membership, so a preview
never disagrees with whom a campaign reaches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from kontor_contracts.placeholders import is_placeholder
from kontor_servicekit.domain_errors import Invalid

from kontor_marketing.domain.consent import normalise_email
from kontor_marketing.domain.segment_flows import EntryMail

ZERO = Decimal("0")


def profile_email(raw: str) -> str | None:
    """The key of the profile an event's e-mail folds into; None: no profile.

    None for an address that is not one, and for a placeholder (``p-…@pseudonym.invalid``):
    the person was erased and their events can no longer be opened (ADR 0036). Their
    profile was deleted with the erasure (ADR 0052), and a replay of the topics must not
    fold their history into a profile again, under the pseudonym (ADR 0128).
    """
    if is_placeholder(raw):
        return None
    try:
        return normalise_email(raw)
    except Invalid:
        return None


@dataclass
class OrderFacts:
    placed_at: datetime
    gross: Decimal
    status: str = "placed"  # placed | cancelled | rejected
    refunded: Decimal = ZERO
    returned: bool = False
    coupon_codes: tuple[str, ...] = ()
    number: str | None = None
    """The order number the customer knows (what a review request names)."""
    categories: dict[str, int] = field(default_factory=dict)
    """Pieces per category of the order's articles (those whose category was known)."""


OPEN_TICKET = frozenset({"open", "in_progress", "waiting_for_customer"})
"""The ticket statuses (``support.ticket.v1``'s) of a concern not settled yet; the others
are ``resolved`` and ``closed``."""


@dataclass
class TicketFacts:
    opened_at: datetime
    status: str = "open"
    """The ticket's latest status (support's v1 vocabulary)."""

    @property
    def open(self) -> bool:
        return self.status in OPEN_TICKET


@dataclass
class Profile:
    email: str
    customer_id: str | None = None
    name: str | None = None
    orders: dict[str, OrderFacts] = field(default_factory=dict)
    last_activity_at: datetime | None = None
    open_cart_value: Decimal | None = None
    open_cart_at: datetime | None = None
    consent: str = "none"  # none | pending | confirmed | unsubscribed
    segments: tuple[str, ...] = ()
    tickets: dict[str, TicketFacts] = field(default_factory=dict)

    def _touch(self, at: datetime) -> None:
        if self.last_activity_at is None or at > self.last_activity_at:
            self.last_activity_at = at

    def order_placed(
        self,
        order_id: str,
        gross: Decimal,
        at: datetime,
        coupon_codes: tuple[str, ...] = (),
        number: str | None = None,
        categories: dict[str, int] | None = None,
    ) -> None:
        facts = OrderFacts(
            at, gross, coupon_codes=coupon_codes, number=number, categories=dict(categories or {})
        )
        self.orders.setdefault(order_id, facts)
        self.open_cart_value, self.open_cart_at = None, None
        self._touch(at)

    def order_ended(self, order_id: str, status: str) -> None:
        if order_id in self.orders:
            self.orders[order_id].status = status

    def refunded(self, order_id: str, amount: Decimal, at: datetime) -> None:
        if order_id in self.orders:
            self.orders[order_id].refunded += amount
            self.orders[order_id].returned = True
            self._touch(at)

    def cart_abandoned(self, value: Decimal, at: datetime) -> None:
        self.open_cart_value, self.open_cart_at = value, at
        self._touch(at)

    def ticket_opened(self, ticket_id: str, at: datetime) -> None:
        """A ticket of the person's (again, when redelivered: the status it has stays)."""
        self.tickets.setdefault(ticket_id, TicketFacts(at))

    def ticket_status(self, ticket_id: str, status: str) -> None:
        """The ticket moved (updated, resolved, reopened by a reply)."""
        if ticket_id in self.tickets:
            self.tickets[ticket_id].status = status

    # ------------------------------------------------------------------ figures

    def kept_orders(self) -> list[OrderFacts]:
        return [o for o in self.orders.values() if o.status == "placed"]

    def favourite_categories(self, top: int = 3) -> list[str]:
        """The categories the person bought most pieces of (orders kept), most first."""
        pieces: dict[str, int] = {}
        for order in self.kept_orders():
            for category, count in order.categories.items():
                pieces[category] = pieces.get(category, 0) + count
        return [c for c, _ in sorted(pieces.items(), key=lambda kv: (-kv[1], kv[0]))][:top]

    def last_order_at(self) -> datetime | None:
        """When the newest order not cancelled or rejected was placed."""
        return max((o.placed_at for o in self.kept_orders()), default=None)

    def figures(self, now: datetime) -> dict[str, Any]:
        kept = self.kept_orders()
        revenue = sum((o.gross - o.refunded for o in kept), ZERO)
        count = len(kept)
        last = max((o.placed_at for o in kept), default=None)
        first = min((o.placed_at for o in kept), default=None)
        days = None if last is None else (now - last).days
        r, f, m = rfm(days, count, revenue)
        last_ticket = max((t.opened_at for t in self.tickets.values()), default=None)
        return {
            "orders": count,
            "revenue": revenue,
            "aov": (revenue / count).quantize(Decimal("0.01")) if count else ZERO,
            "return_rate": (Decimal(sum(1 for o in kept if o.returned)) / count).quantize(
                Decimal("0.0001")
            )
            if count
            else ZERO,
            "cancelled": sum(1 for o in self.orders.values() if o.status != "placed"),
            "first_order_at": first,
            "last_order_at": last,
            "days_since_last_order": days,
            "last_activity_at": self.last_activity_at,
            "open_cart": self.open_cart_value is not None,
            "open_cart_value": self.open_cart_value,
            "rfm_r": r,
            "rfm_f": f,
            "rfm_m": m,
            "rfm": f"{r}{f}{m}",
            "consent": self.consent,
            "favourite_category": next(iter(self.favourite_categories(1)), None),
            "tickets": len(self.tickets),
            "open_tickets": sum(1 for t in self.tickets.values() if t.open),
            "last_ticket_at": last_ticket,
            "days_since_last_ticket": None if last_ticket is None else (now - last_ticket).days,
        }


def rfm(days: int | None, orders: int, revenue: Decimal) -> tuple[int, int, int]:
    """Recency, frequency, monetary 1-5 on fixed thresholds (a small shop has too few
    customers for stable quintiles): days since the last order 30/90/180/365, orders
    1/2/3-4/5-9/10+, net revenue 50/100/250/500 EUR. No order: 0 0 0."""
    if days is None or not orders:
        return 0, 0, 0
    r = 5 if days <= 30 else 4 if days <= 90 else 3 if days <= 180 else 2 if days <= 365 else 1
    f = 1 if orders == 1 else 2 if orders == 2 else 3 if orders <= 4 else 4 if orders <= 9 else 5
    m = (
        1
        if revenue < 50
        else 2
        if revenue < 100
        else 3
        if revenue < 250
        else 4
        if revenue < 500
        else 5
    )
    return r, f, m


# ----------------------------------------------------------------------- segments

NUMERIC = {
    "orders",
    "revenue",
    "aov",
    "return_rate",
    "cancelled",
    "days_since_last_order",
    "rfm_r",
    "rfm_f",
    "rfm_m",
    "open_cart_value",
    "tickets",
    "open_tickets",
    "days_since_last_ticket",
}
TEXT = {"consent", "rfm", "favourite_category"}
FLAGS = {"open_cart"}
OPS = {"eq", "ne", "gt", "gte", "lt", "lte", "in"}
MAX_DEPTH = 5
MAX_LEAVES = 30


def check_rule(rule: Any, path: tuple[str | int, ...] = ("rule",), depth: int = 0) -> int:
    """Refuse a malformed rule at its path; answers the number of leaves."""
    if depth > MAX_DEPTH:
        raise Invalid(f"rules nest at most {MAX_DEPTH} deep", field=path)
    if not isinstance(rule, dict):
        raise Invalid("a rule is an object", field=path)
    for group in ("all", "any"):
        if group in rule:
            parts = rule[group]
            if set(rule) != {group} or not isinstance(parts, list) or not parts:
                raise Invalid(f"'{group}' holds a non-empty list and nothing else", field=path)
            leaves = sum(check_rule(p, (*path, group, i), depth + 1) for i, p in enumerate(parts))
            if leaves > MAX_LEAVES:
                raise Invalid(f"at most {MAX_LEAVES} conditions", field=path)
            return leaves
    if set(rule) != {"field", "op", "value"}:
        raise Invalid("a condition has field, op and value", field=path)
    name, op, value = rule["field"], rule["op"], rule["value"]
    if name not in NUMERIC | TEXT | FLAGS:
        known = ", ".join(sorted(NUMERIC | TEXT | FLAGS))
        raise Invalid(f"unknown field; one of {known}", field=(*path, "field"))
    if op not in OPS:
        raise Invalid(f"op is one of {', '.join(sorted(OPS))}", field=(*path, "op"))
    values = value if op == "in" else [value]
    if op == "in" and (not isinstance(value, list) or not value):
        raise Invalid("'in' takes a non-empty list", field=(*path, "value"))
    for v in values:
        ok = (
            (name in NUMERIC and isinstance(v, str) and _is_number(v))
            or (name in NUMERIC and isinstance(v, int) and not isinstance(v, bool))
            or (name in TEXT and isinstance(v, str))
            or (name in FLAGS and isinstance(v, bool))
        )
        if not ok:
            raise Invalid(f"a value of {name} does not fit it", field=(*path, "value"))
    if name not in NUMERIC and op in {"gt", "gte", "lt", "lte"}:
        raise Invalid(f"{name} compares only with eq, ne, in", field=(*path, "op"))
    return 1


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return text.replace(".", "", 1).isdigit()


def matches(rule: dict[str, Any], figures: dict[str, Any]) -> bool:
    """Whether a profile's figures satisfy ``rule`` (checked with :func:`check_rule`)."""
    if "all" in rule:
        return all(matches(p, figures) for p in rule["all"])
    if "any" in rule:
        return any(matches(p, figures) for p in rule["any"])
    have = figures.get(rule["field"])
    if have is None:
        return bool(rule["op"] == "ne")
    op, value = rule["op"], rule["value"]
    wanted = [_coerce(have, v) for v in (value if op == "in" else [value])]
    if op == "in":
        return have in wanted
    target = wanted[0]
    return bool(
        {
            "eq": have == target,
            "ne": have != target,
            "gt": have > target,
            "gte": have >= target,
            "lt": have < target,
            "lte": have <= target,
        }[op]
    )


def _coerce(have: Any, value: Any) -> Any:
    if isinstance(have, (bool, str)):
        return value
    return Decimal(str(value))


@dataclass
class Segment:
    id: str
    name: str
    rule: dict[str, Any]
    created_at: datetime
    size: int = 0
    entry_mail: EntryMail | None = None
    """The mail for whoever enters the segment ("entered segment" as a trigger)."""
