"""Returns and withdrawals (Widerruf): deadline, quantities, refund. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from kontor_contracts.money import quantize
from kontor_servicekit.clock import BERLIN

from kontor_orders.domain.order import IllegalTransition, Order, OrderError

WITHDRAWAL_DAYS = 14
RETURN_STATUSES = ("requested", "received", "completed")
OPEN_RETURN_STATUSES = ("requested", "received")


def withdrawal_deadline(delivered_at: datetime) -> datetime:
    """The last moment of the withdrawal period (§355 (2), §356 (2) BGB).

    The period starts the day after delivery (§187 (1) BGB) and runs 14 days, so it
    ends at the end of the 14th day after the day of delivery, in Berlin time
    (end of day = 23:59:59.999, the last millisecond Mongo can store). A period
    ending on a weekend or holiday is extended by §193 BGB; that is not modelled
    here: the merchant can override.
    """
    if delivered_at.tzinfo is None:
        raise ValueError("time must be timezone-aware")
    last_day: date = delivered_at.astimezone(BERLIN).date() + timedelta(days=WITHDRAWAL_DAYS)
    return datetime.combine(last_day, time(23, 59, 59, 999000), tzinfo=BERLIN)


class DeadlinePassed(Exception):
    def __init__(self, deadline: datetime) -> None:
        super().__init__(
            f"the withdrawal period ended on {deadline.isoformat()} (14 days after delivery)"
        )
        self.deadline = deadline


def check_withdrawal_allowed(order: Order, now: datetime) -> datetime | None:
    """Raise unless ``order`` may be withdrawn from at ``now``; the deadline if known.

    Before delivery the period has not started, so a shipped order can always be
    withdrawn from; an order that was never shipped is cancelled instead.
    """
    if order.status not in ("partially_shipped", "shipped", "delivered"):
        raise IllegalTransition("withdraw from", order.status)
    if order.delivered_at is None:
        return None
    deadline = withdrawal_deadline(order.delivered_at)
    if now > deadline:
        raise DeadlinePassed(deadline)
    return deadline


@dataclass(frozen=True)
class ReturnLine:
    line_no: int
    sku: str
    quantity: int
    reason: str | None = None


def return_lines(order: Order, requested: list[tuple[int, int, str | None]]) -> list[ReturnLine]:
    """Validate (line_no, quantity, reason) against what was shipped and not yet returned,
    and book the quantities on the order (so two returns cannot take the same piece)."""
    if not requested:
        raise OrderError(("lines",), "a return needs at least one line")
    by_no = {line.line_no: line for line in order.lines}
    lines: list[ReturnLine] = []
    seen: set[int] = set()
    for index, (line_no, quantity, reason) in enumerate(requested):
        line = by_no.get(line_no)
        if line is None:
            raise OrderError(("lines", index, "line_no"), f"the order has no line {line_no}")
        if line_no in seen:
            raise OrderError(("lines", index, "line_no"), f"line {line_no} appears twice")
        seen.add(line_no)
        open_ = order.shipped_quantity(line_no) - order.returned.get(line_no, 0)
        if not 1 <= quantity <= open_:
            raise OrderError(
                ("lines", index, "quantity"),
                f"line {line_no} has {open_} shipped piece(s) not yet returned",
            )
        lines.append(ReturnLine(line_no, line.sku, quantity, reason))
    for r in lines:
        order.returned[r.line_no] = order.returned.get(r.line_no, 0) + r.quantity
    return lines


def whole_order_returned(order: Order) -> bool:
    return all(order.returned.get(line.line_no, 0) >= line.quantity for line in order.lines)


@dataclass(frozen=True)
class InspectedLine:
    line_no: int
    sku: str
    quantity: int
    condition: str
    disposition: str  # restock | write_off


@dataclass(frozen=True)
class Refund:
    amount: Decimal
    includes_shipping: bool
    lines: tuple[tuple[int, str, int], ...]  # (line_no, sku, quantity)


def refund_for(
    order: Order, lines: list[tuple[int, int]], *, withdrawal: bool, whole_order: bool
) -> Refund:
    """Gross refund for (line_no, quantity): each line's share of its gross amount
    (rounded half-up per line), plus the shipping the customer paid, up to the
    standard method's cost, when a withdrawal takes back the whole order
    (§357 (2) BGB: express surcharges are not refunded)."""
    by_no = {line.line_no: line for line in order.lines}
    amount = Decimal("0")
    refunded: list[tuple[int, str, int]] = []
    for line_no, quantity in lines:
        line = by_no[line_no]
        if quantity == line.quantity:
            amount += line.line_gross
        else:
            amount += quantize(line.line_gross * quantity / line.quantity, order.currency)
        refunded.append((line_no, line.sku, quantity))
    includes_shipping = False
    if withdrawal and whole_order and order.shipping is not None:
        shipping = order.shipping.gross
        if order.shipping.standard_gross is not None:
            shipping = min(shipping, order.shipping.standard_gross)
        if shipping > 0:
            amount += shipping
            includes_shipping = True
    return Refund(amount, includes_shipping, tuple(refunded))


@dataclass
class Return:
    """A return of goods: a withdrawal (statutory) or a merchant-side return
    (complaint, goodwill). requested -> received -> completed."""

    id: str
    order_id: str
    order_number: str
    withdrawal: bool
    lines: list[ReturnLine]
    requested_at: datetime
    status: str = "requested"
    kind: str = "withdrawal"
    note: str | None = None
    deadline: datetime | None = None
    inspected: list[InspectedLine] = field(default_factory=list)
    received_at: datetime | None = None
    refund: Refund | None = None
    completed_at: datetime | None = None

    def receive(self, inspected: list[tuple[int, int, str, str]], now: datetime) -> None:
        """Record arrival and inspection of (line_no, quantity, condition, disposition)."""
        if self.status != "requested":
            raise IllegalTransition("receive", self.status)
        by_no = {line.line_no: line for line in self.lines}
        if not inspected:
            raise OrderError(("lines",), "inspect at least one line")
        seen: set[int] = set()
        result: list[InspectedLine] = []
        for index, (line_no, quantity, condition, disposition) in enumerate(inspected):
            line = by_no.get(line_no)
            if line is None:
                raise OrderError(("lines", index, "line_no"), f"line {line_no} is not returned")
            if line_no in seen:
                raise OrderError(("lines", index, "line_no"), f"line {line_no} appears twice")
            seen.add(line_no)
            if not 1 <= quantity <= line.quantity:
                raise OrderError(
                    ("lines", index, "quantity"), f"at most {line.quantity} piece(s) announced"
                )
            if disposition not in ("restock", "write_off"):
                raise OrderError(("lines", index, "disposition"), "restock or write_off")
            result.append(InspectedLine(line_no, line.sku, quantity, condition, disposition))
        self.inspected = result
        self.received_at = now
        self.status = "received"

    def complete(self, refund: Refund, now: datetime) -> None:
        if self.status != "received":
            raise IllegalTransition("complete", self.status)
        self.refund = refund
        self.completed_at = now
        self.status = "completed"
