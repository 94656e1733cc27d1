"""What may still be refunded on an order, and booking a refund. Pure.

Every refund, by any path (a return's receipt, a complaint, a withdrawal before
shipment), is capped by what is still refundable: on a line, its gross amount minus
the refunds booked on it; on the order, its gross total minus every refund booked on
it (so shipping and a discount on the order count too). A refund the system computes
(a return's share of the goods, the payment of a withdrawn order) is cut to the cap;
an amount the merchant names (a complaint) that exceeds it is refused with the
remaining amount (:class:`RefundExceedsRemaining`, 409).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from kontor_servicekit.domain_errors import Conflict

from kontor_orders.domain.order import Order, OrderLine

ZERO = Decimal("0")


class RefundExceedsRemaining(Conflict):
    """A refund above what is still refundable (409 with ``remaining`` and ``currency``)."""

    title = "Refund exceeds what is still refundable"

    def __init__(self, what: str, asked: Decimal, remaining: Decimal, currency: str) -> None:
        super().__init__(
            f"a refund of {asked} {currency} exceeds what is still refundable on {what}: "
            f"{remaining} {currency}",
            details={"remaining": str(remaining), "currency": currency},
        )
        self.remaining = remaining


def _line(order: Order, line_no: int) -> OrderLine:
    return next(x for x in order.lines if x.line_no == line_no)


def line_refundable(order: Order, line_no: int) -> Decimal:
    """The line's gross amount minus what was refunded on it (never below zero)."""
    line = _line(order, line_no)
    return max(line.line_gross - order.refunded_lines.get(line_no, ZERO), ZERO)


def order_refundable(order: Order) -> Decimal:
    """The order's gross total minus every refund booked on it (never below zero)."""
    return max(order.gross_total - order.refunded_total, ZERO)


def shipping_refundable(order: Order) -> Decimal:
    """The shipping the customer paid minus what was refunded of it."""
    paid = order.shipping.gross if order.shipping is not None else ZERO
    return max(paid - order.refunded_shipping, ZERO)


def require_refundable(order: Order, line_no: int, amount: Decimal) -> None:
    """Refuse a named ``amount`` on ``line_no`` above what is still refundable."""
    line_left = line_refundable(order, line_no)
    if amount > line_left:
        what = f"line {line_no} of {order.subject}"
        raise RefundExceedsRemaining(what, amount, line_left, order.currency)
    order_left = order_refundable(order)
    if amount > order_left:
        raise RefundExceedsRemaining(order.subject, amount, order_left, order.currency)


def capped(
    order: Order, lines: Mapping[int, Decimal], shipping: Decimal = ZERO
) -> tuple[dict[int, Decimal], Decimal]:
    """Cut computed amounts (per line, and shipping) to what is still refundable.

    Each line to its own remaining amount, the shipping to what was paid for it and not
    refunded, and all of them together to the order's remaining amount (lines in order,
    shipping last).
    """
    left = order_refundable(order)
    result: dict[int, Decimal] = {}
    for line_no, amount in lines.items():
        take = min(amount, line_refundable(order, line_no), left)
        result[line_no] = take
        left -= take
    return result, min(shipping, shipping_refundable(order), left)


def book_refund(
    order: Order,
    lines: Mapping[int, Decimal],
    *,
    shipping: Decimal = ZERO,
    other: Decimal = ZERO,
) -> Decimal:
    """Book a refund on ``order`` (amounts per line, of the shipping, and ``other``: not
    tied to a line, e.g. the payment of a withdrawn order); returns the total."""
    total = sum(lines.values(), ZERO) + shipping + other
    for line_no, amount in lines.items():
        order.refunded_lines[line_no] = order.refunded_lines.get(line_no, ZERO) + amount
    order.refunded_shipping += shipping
    order.refunded_total += total
    return total
