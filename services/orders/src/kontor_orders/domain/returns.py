"""Returns and withdrawals (Widerruf): deadline, quantities, refund. Pure.

A customer's withdrawal has two steps: a pending :class:`Withdrawal` (the order and
the lines chosen, nothing declared yet), then its declaration, which makes a
:class:`Return`. The merchant records returns directly (by phone, letter, complaint
or goodwill). A return is requested -> (partially_received ->) received -> completed
(with the refund), or closed by the merchant with a reason before everything arrived.

A withdrawal from an order not yet shipped cancels it: the declaration makes a return
that is completed at once with the refund of what was paid (no goods travel).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from kontor_contracts.money import quantize
from kontor_servicekit.aggregate import RecordsEvents
from kontor_servicekit.clock import BERLIN, iso_utc
from kontor_servicekit.domain_errors import IllegalTransition, Invalid, NotFound

from kontor_orders.domain.events import (
    ReturnWasCompleted,
    ReturnWasReceived,
    ReturnWasRequested,
    WithdrawalWasDeclared,
)
from kontor_orders.domain.order import CANCELLABLE, Order, OrderError, UnknownOrder
from kontor_orders.domain.parties import email_key
from kontor_orders.domain.refunds import book_refund, capped, order_refundable

WITHDRAWAL_DAYS = 14
RETURN_STATUSES = ("requested", "partially_received", "received", "completed")
OPEN_RETURN_STATUSES = ("requested", "partially_received", "received")
#: An order whose goods (some of them) are with the customer.
RETURNABLE = ("partially_shipped", "shipped", "delivered", "partially_returned")

Requested = list[tuple[int, int, str | None]]
"""(line_no, quantity, reason) a customer or the merchant asks to return."""
Inspected = Sequence[tuple[int, int, str, str]]
"""(line_no, quantity, condition, disposition) of what arrived."""


class UnknownReturn(NotFound):
    def __init__(self, key: str) -> None:
        super().__init__("return", key)


class UnknownWithdrawal(NotFound):
    def __init__(self, key: str) -> None:
        super().__init__("withdrawal", key)


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


class DeadlinePassed(IllegalTransition):
    """The 14 days are over (409 with ``deadline``); the merchant may override."""

    title = "Withdrawal period ended"

    def __init__(self, subject: str, deadline: datetime) -> None:
        super().__init__(
            subject,
            "withdraw from",
            "delivered",
            message=f"the withdrawal period ended on {deadline.isoformat()} "
            "(14 days after delivery)",
        )
        self.details["deadline"] = iso_utc(deadline)
        self.deadline = deadline


def check_withdrawal_allowed(order: Order, now: datetime) -> datetime | None:
    """Raise unless goods of ``order`` may be sent back by withdrawal at ``now``; the
    deadline if known.

    Before delivery the period has not started, so a shipped order can always be
    withdrawn from; an order that was never shipped has no goods to send back (the
    customer's withdrawal cancels it: :func:`cancels_order`).
    """
    if order.status not in RETURNABLE:
        raise IllegalTransition(order.subject, "withdraw from", order.status)
    if order.delivered_at is None:
        return None
    deadline = withdrawal_deadline(order.delivered_at)
    if now > deadline:
        raise DeadlinePassed(order.subject, deadline)
    return deadline


def cancels_order(order: Order) -> bool:
    """A withdrawal before anything was shipped cancels the order (§355 BGB: the
    consumer may withdraw at any time before the period ends, also before delivery)."""
    return order.status in CANCELLABLE and not order.shipments


def _whole_order(order: Order, lines: Requested | None) -> list[ReturnLine]:
    """Before shipment a withdrawal is of the whole order: every line, all pieces."""
    reasons = {line_no: reason for line_no, _, reason in lines or []}
    chosen = [
        ReturnLine(line.line_no, line.sku, line.quantity, reasons.get(line.line_no))
        for line in order.lines
    ]
    named = sorted((line_no, quantity) for line_no, quantity, _ in lines or [])
    if lines and named != [(x.line_no, x.quantity) for x in chosen]:
        raise OrderError(
            ("lines",),
            "nothing is shipped yet: a withdrawal cancels the whole order "
            "(name no lines, or every line with all its pieces)",
        )
    return chosen


def identified(order: Order | None, order_number: str, email: str) -> Order:
    """The order a customer names by number and e-mail address.

    One answer for "no such number" and "wrong e-mail": the number alone reveals nothing.
    """
    if order is None or email_key(order.customer.email) != email_key(email):
        raise UnknownOrder(order_number)
    return order


def require_note_for_override(override_deadline: bool, note: str | None) -> None:
    """Accepting a withdrawal after its period needs a note saying why."""
    if override_deadline and not (note and note.strip()):
        raise Invalid("an override needs a note", field=("note",), type_="missing")


@dataclass(frozen=True)
class ReturnLine:
    line_no: int
    sku: str
    quantity: int
    reason: str | None = None


def returnable_lines(order: Order) -> Requested:
    """Everything shipped and not yet returned (a withdrawal that names no lines)."""
    return [
        (line.line_no, open_, None)
        for line in order.lines
        if (open_ := order.shipped_quantity(line.line_no) - order.returned.get(line.line_no, 0)) > 0
    ]


def return_lines(order: Order, requested: Requested) -> list[ReturnLine]:
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
    line_amounts: tuple[tuple[int, Decimal], ...] = ()
    """(line_no, gross refunded) of the goods; ``shipping`` is the rest of ``amount``."""
    shipping: Decimal = Decimal("0")


def refund_for(
    order: Order, lines: list[tuple[int, int]], *, withdrawal: bool, whole_order: bool
) -> Refund:
    """Gross refund for (line_no, quantity): each line's share of its gross amount
    (rounded half-up per line), plus the shipping the customer paid, up to the
    standard method's cost, when a withdrawal takes back the whole order
    (§357 (2) BGB: express surcharges are not refunded).

    Every amount is capped by what is still refundable (``domain/refunds.py``): a line
    refunded before (by a complaint, an earlier return) gives back only the rest, and
    the last pieces of a line get what rounding left of its gross, not a cent more.
    """
    by_no = {line.line_no: line for line in order.lines}
    wanted: dict[int, Decimal] = {}
    refunded: list[tuple[int, str, int]] = []
    for line_no, quantity in lines:
        line = by_no[line_no]
        if quantity == line.quantity:
            share = line.line_gross
        else:
            share = quantize(line.line_gross * quantity / line.quantity, order.currency)
        wanted[line_no] = wanted.get(line_no, Decimal("0")) + share
        refunded.append((line_no, line.sku, quantity))
    shipping = Decimal("0")
    if withdrawal and whole_order and order.shipping is not None:
        shipping = order.shipping.gross
        if order.shipping.standard_gross is not None:
            shipping = min(shipping, order.shipping.standard_gross)
    amounts, shipping = capped(order, wanted, shipping)
    amount = sum(amounts.values(), Decimal("0")) + shipping
    return Refund(amount, shipping > 0, tuple(refunded), tuple(amounts.items()), shipping)


@dataclass
class Withdrawal(RecordsEvents):
    """Step 1 of the customer's withdrawal: the order and the lines, not declared yet.

    ``pending`` until the customer declares it (``confirmed``, with its return).
    ``cancels_order``: nothing was shipped when it was started, so it is of the whole
    order and its declaration cancels the order.
    """

    id: str
    order_id: str
    order_number: str
    lines: list[ReturnLine]
    deadline: datetime | None
    created_at: datetime
    status: str = "pending"
    confirmed_at: datetime | None = None
    return_id: str | None = None
    cancels_order: bool = False

    @classmethod
    def start(
        cls, *, withdrawal_id: str, order: Order, lines: Requested | None, now: datetime
    ) -> Withdrawal:
        """Check the period and the lines (all returnable ones if none are named; the
        whole order if nothing is shipped yet).

        The lines are checked against the order but not booked on it: nothing is
        declared yet, so the order is not to be saved.
        """
        if cancels_order(order):
            chosen = _whole_order(order, lines)
            return cls(withdrawal_id, order.id, order.number, chosen, None, now, cancels_order=True)
        deadline = check_withdrawal_allowed(order, now)
        chosen = return_lines(order, lines or returnable_lines(order))
        return cls(withdrawal_id, order.id, order.number, chosen, deadline, now)

    def requested(self) -> Requested:
        return [(x.line_no, x.quantity, x.reason) for x in self.lines]

    def declare(self, return_id: str, now: datetime) -> None:
        """Step 2: declared now, as return ``return_id``; records WithdrawalWasDeclared."""
        if self.status != "pending":
            raise IllegalTransition(f"withdrawal {self.id}", "confirm", self.status)
        self.status = "confirmed"
        self.confirmed_at = now
        self.return_id = return_id
        self.record(WithdrawalWasDeclared(self.id, return_id))


@dataclass
class Return(RecordsEvents):
    """A return of goods: a withdrawal (statutory) or a merchant-side return
    (complaint, goodwill). requested -> (partially_received ->) received -> completed;
    ``closed_reason`` when the merchant closed it before every piece arrived;
    ``cancelled_order`` when it is a withdrawal before shipment (no goods travel)."""

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
    closed_reason: str | None = None
    cancelled_order: bool = False

    @classmethod
    def of_withdrawal(
        cls, *, return_id: str, order: Order, withdrawal: Withdrawal, now: datetime
    ) -> Return:
        """The return a declared withdrawal makes: the period is checked against now
        and the lines are booked on the order. Records ReturnWasRequested.

        Nothing shipped yet: the order is cancelled (it records OrderWasCancelled, so
        the catalog releases the reservation) and what was paid is refunded at once
        (records ReturnWasCompleted when there is something to refund).
        """
        if cancels_order(order):
            return cls._cancelling(return_id, order, withdrawal, now)
        deadline = check_withdrawal_allowed(order, now)
        # started before shipment, shipped since: what is with the customer goes back
        requested = returnable_lines(order) if withdrawal.cancels_order else None
        chosen = return_lines(order, requested or withdrawal.requested())
        r = cls._withdrawn(return_id, order, chosen, now, deadline=deadline)
        order.note("withdrawal_declared", now, return_id=r.id, withdrawal_id=withdrawal.id)
        r.record(ReturnWasRequested(r.id))
        return r

    @classmethod
    def _withdrawn(
        cls, return_id: str, order: Order, lines: list[ReturnLine], now: datetime, **more: Any
    ) -> Return:
        return cls(
            id=return_id,
            order_id=order.id,
            order_number=order.number,
            withdrawal=True,
            kind="withdrawal",
            lines=lines,
            requested_at=now,
            **more,
        )

    @classmethod
    def _cancelling(
        cls, return_id: str, order: Order, withdrawal: Withdrawal, now: datetime
    ) -> Return:
        order.note("withdrawal_declared", now, return_id=return_id, withdrawal_id=withdrawal.id)
        order.cancel("withdrawal", "customer", now)
        amount = min(order.amount_paid, order_refundable(order))
        book_refund(order, {}, other=amount)
        lines = withdrawal.lines  # the whole order (Withdrawal.start)
        r = cls._withdrawn(
            return_id,
            order,
            list(lines),
            now,
            note="withdrawal before shipment: the order is cancelled",
            status="completed",
            refund=Refund(
                amount,
                includes_shipping=order.shipping is not None and amount >= order.gross_total,
                lines=tuple((x.line_no, x.sku, x.quantity) for x in lines),
            ),
            completed_at=now,
            cancelled_order=True,
        )
        order.note("refund_decided", now, return_id=r.id, amount=str(amount))
        if amount > 0:
            r.record(ReturnWasCompleted(r.id))
        return r

    @classmethod
    def take_back(
        cls,
        *,
        return_id: str,
        order: Order,
        lines: Requested,
        kind: str,
        note: str | None,
        override_deadline: bool,
        now: datetime,
    ) -> Return:
        """A return the merchant records. A withdrawal after the period is refused
        (DeadlinePassed) unless overridden with a note; other kinds need goods that
        were shipped. Books the lines on the order; records ReturnWasRequested."""
        require_note_for_override(override_deadline, note)
        withdrawal = kind == "withdrawal"
        deadline = None
        if withdrawal and not override_deadline:
            deadline = check_withdrawal_allowed(order, now)
        elif order.status not in RETURNABLE:
            raise IllegalTransition(order.subject, "take back goods of", order.status)
        r = cls(
            id=return_id,
            order_id=order.id,
            order_number=order.number,
            withdrawal=withdrawal,
            kind=kind,
            note=note,
            lines=return_lines(order, lines),
            requested_at=now,
            deadline=deadline,
        )
        details: dict[str, object] = {"return_id": r.id, "kind": kind}
        if override_deadline:
            details["deadline_overridden"] = note
        order.note("return_requested", now, **details)
        r.record(ReturnWasRequested(r.id))
        return r

    @property
    def subject(self) -> str:
        return f"return {self.id}"

    def received(self, line_no: int) -> int:
        """Pieces of ``line_no`` received so far (over every receipt)."""
        return sum(x.quantity for x in self.inspected if x.line_no == line_no)

    @property
    def outstanding(self) -> dict[int, int]:
        """line_no -> pieces announced and not received yet."""
        return {
            line.line_no: left
            for line in self.lines
            if (left := line.quantity - self.received(line.line_no)) > 0
        }

    def receive(self, inspected: Inspected, now: datetime) -> list[InspectedLine]:
        """Record the arrival and inspection of (line_no, quantity, condition,
        disposition); records ReturnWasReceived with this receipt's lines.

        A line may appear several times (2 restocked + 1 written off); a receipt may
        be partial: the return is ``partially_received`` until every announced piece
        came, then ``received``.
        """
        if self.status not in ("requested", "partially_received"):
            raise IllegalTransition(self.subject, "receive", self.status)
        by_no = {line.line_no: line for line in self.lines}
        if not inspected:
            raise OrderError(("lines",), "inspect at least one line")
        outstanding = self.outstanding
        counted: dict[int, int] = {}
        result: list[InspectedLine] = []
        for index, (line_no, quantity, condition, disposition) in enumerate(inspected):
            line = by_no.get(line_no)
            if line is None:
                raise OrderError(("lines", index, "line_no"), f"line {line_no} is not returned")
            counted[line_no] = counted.get(line_no, 0) + quantity
            left = outstanding.get(line_no, 0)
            if quantity < 1 or counted[line_no] > left:
                raise OrderError(
                    ("lines", index, "quantity"),
                    f"at most {line.quantity} piece(s) announced, {left} not yet received",
                )
            if disposition not in ("restock", "write_off"):
                raise OrderError(("lines", index, "disposition"), "restock or write_off")
            result.append(InspectedLine(line_no, line.sku, quantity, condition, disposition))
        self.inspected = [*self.inspected, *result]
        self.received_at = now
        self.status = "partially_received" if self.outstanding else "received"
        self.record(ReturnWasReceived(self.id, tuple(result), now))
        return result

    def complete(self, refund: Refund, now: datetime) -> None:
        """The refund is decided; records ReturnWasCompleted."""
        if self.status != "received":
            raise IllegalTransition(self.subject, "complete", self.status)
        self.refund = refund
        self.completed_at = now
        self.status = "completed"
        self.record(ReturnWasCompleted(self.id))

    def settle(self, order: Order, inspected: Inspected, now: datetime) -> Refund | None:
        """Goods arrived and were inspected: receive them and book on ``order`` what
        came back; when every announced piece is in, decide the refund at once
        (complete). None while pieces are still outstanding."""
        arrived = self.receive(inspected, now)
        pieces: dict[int, int] = {}
        for x in arrived:
            pieces[x.line_no] = pieces.get(x.line_no, 0) + x.quantity
        order.take_back(pieces, now, return_id=self.id)
        order.note(
            "return_received",
            now,
            return_id=self.id,
            lines=[
                {"line_no": x.line_no, "quantity": x.quantity, "disposition": x.disposition}
                for x in arrived
            ],
            outstanding=[{"line_no": n, "quantity": q} for n, q in self.outstanding.items()],
        )
        if self.status != "received":
            return None
        return self._refund(order, now)

    def close(self, order: Order, reason: str, now: datetime) -> Refund:
        """The merchant closes the return before every piece arrived (``reason``): the
        pieces not received are no longer booked as returned on the order, and the
        refund for what did arrive is decided (records ReturnWasCompleted)."""
        if self.status not in ("requested", "partially_received"):
            raise IllegalTransition(self.subject, "close", self.status)
        if not reason.strip():
            raise Invalid("closing a return needs a reason", field=("reason",), type_="missing")
        missing = self.outstanding
        for line_no, quantity in missing.items():
            order.returned[line_no] -= quantity
            if not order.returned[line_no]:
                del order.returned[line_no]
        self.closed_reason = reason
        self.status = "received"
        order.note(
            "return_closed",
            now,
            return_id=self.id,
            reason=reason,
            not_received=[{"line_no": n, "quantity": q} for n, q in missing.items()],
        )
        return self._refund(order, now)

    def _refund(self, order: Order, now: datetime) -> Refund:
        totals: dict[int, int] = {}
        for x in self.inspected:
            totals[x.line_no] = totals.get(x.line_no, 0) + x.quantity
        refund = refund_for(
            order,
            list(totals.items()),
            withdrawal=self.withdrawal,
            whole_order=whole_order_returned(order),
        )
        book_refund(order, dict(refund.line_amounts), shipping=refund.shipping)
        self.complete(refund, now)
        order.note("refund_decided", now, return_id=self.id, amount=str(refund.amount))
        return refund
