"""Withdrawal deadline (14 days from delivery, end of day in Berlin), return quantities,
refunds with and without shipping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from kontor_orders.domain.order import (
    Address,
    Customer,
    IllegalTransition,
    Order,
    OrderError,
    PricedProduct,
    ShippingCharge,
)
from kontor_orders.domain.returns import (
    DeadlinePassed,
    Return,
    check_withdrawal_allowed,
    refund_for,
    return_lines,
    whole_order_returned,
    withdrawal_deadline,
)
from kontor_servicekit.clock import BERLIN

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
TEE = PricedProduct("TEE", "T-Shirt", Decimal("10.00"), Decimal("0.19"), "EUR")
MUG = PricedProduct("MUG", "Tasse", Decimal("3.33"), Decimal("0.19"), "EUR")


# ------------------------------------------------------------------ the deadline


def test_deadline_is_the_end_of_the_14th_day_after_delivery_in_berlin() -> None:
    delivered = datetime(2026, 6, 1, 14, 30, tzinfo=BERLIN)
    assert withdrawal_deadline(delivered) == datetime(
        2026, 6, 15, 23, 59, 59, 999000, tzinfo=BERLIN
    )


def test_delivery_late_in_the_evening_utc_counts_on_the_berlin_day() -> None:
    # 22:30 UTC on 1 June is 00:30 on 2 June in Berlin (summer time): day 0 is 2 June
    delivered = datetime(2026, 6, 1, 22, 30, tzinfo=UTC)
    assert withdrawal_deadline(delivered).date().isoformat() == "2026-06-16"


def test_deadline_across_the_change_to_winter_time() -> None:
    delivered = datetime(2026, 10, 20, 12, 0, tzinfo=BERLIN)
    deadline = withdrawal_deadline(delivered)
    assert deadline == datetime(2026, 11, 3, 23, 59, 59, 999000, tzinfo=BERLIN)
    assert deadline.utcoffset() == timedelta(hours=1)


def test_naive_delivery_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        withdrawal_deadline(datetime(2026, 6, 1, 12, 0))  # noqa: DTZ001


def delivered_order(delivered_at: datetime, shipping: ShippingCharge | None = None) -> Order:
    order = Order.place(
        order_id="o-1",
        number="B-2026-000001",
        customer=Customer(email="anna@example.de", name="Anna"),
        shipping_address=Address("Anna", "Hauptstr. 1", "10115", "Berlin", "DE"),
        billing_address=None,
        requested=[("TEE", 2), ("MUG", 3)],
        products={"TEE": TEE, "MUG": MUG},
        now=T0,
        shipping=shipping,
    )
    order.confirm(T0)
    order.ship(shipment_id="s", carrier="DHL", tracking_number=None, lines=[(1, 2), (2, 3)], now=T0)
    order.deliver(delivered_at, delivered_at)
    return order


def test_withdrawal_on_day_14_is_allowed_and_on_day_15_refused() -> None:
    delivered = datetime(2026, 6, 1, 12, 0, tzinfo=BERLIN)
    order = delivered_order(delivered)
    last_moment = datetime(2026, 6, 15, 23, 59, 59, tzinfo=BERLIN)
    assert check_withdrawal_allowed(order, last_moment) == withdrawal_deadline(delivered)
    with pytest.raises(DeadlinePassed) as caught:
        check_withdrawal_allowed(order, datetime(2026, 6, 16, 0, 0, tzinfo=BERLIN))
    assert caught.value.deadline == withdrawal_deadline(delivered)
    assert "2026-06-15T23:59:59.999000+02:00" in str(caught.value)


def test_withdrawal_before_delivery_is_allowed_without_a_deadline() -> None:
    order = delivered_order(T0)
    order.status, order.delivered_at = "shipped", None
    assert check_withdrawal_allowed(order, T0 + timedelta(days=100)) is None


@pytest.mark.parametrize("status", ["placed", "confirmed", "paid", "rejected", "cancelled"])
def test_no_withdrawal_before_shipping(status: str) -> None:
    order = delivered_order(T0)
    order.status = status
    with pytest.raises(IllegalTransition):
        check_withdrawal_allowed(order, T0)


# ------------------------------------------------------------------ quantities


def test_return_lines_book_quantities_so_pieces_are_returned_once() -> None:
    order = delivered_order(T0)
    lines = return_lines(order, [(1, 1, "too_small")])
    assert [(x.line_no, x.sku, x.quantity, x.reason) for x in lines] == [(1, "TEE", 1, "too_small")]
    assert order.returned == {1: 1}
    return_lines(order, [(1, 1, None)])
    with pytest.raises(OrderError) as caught:
        return_lines(order, [(1, 1, None)])
    assert caught.value.field == ("lines", 0, "quantity")


@pytest.mark.parametrize(
    ("requested", "field"),
    [
        ([], ("lines",)),
        ([(9, 1, None)], ("lines", 0, "line_no")),
        ([(2, 4, None)], ("lines", 0, "quantity")),
        ([(2, 1, None), (2, 1, None)], ("lines", 1, "line_no")),
    ],
)
def test_bad_return_lines(
    requested: list[tuple[int, int, str | None]], field: tuple[object, ...]
) -> None:
    order = delivered_order(T0)
    with pytest.raises(OrderError) as caught:
        return_lines(order, requested)
    assert caught.value.field == field
    assert order.returned == {}


# ------------------------------------------------------------------ refunds


EXPRESS = ShippingCharge(
    "express", Decimal("8.40"), Decimal("0.19"), "EUR", standard_gross=Decimal("4.95")
)


def test_refund_of_part_of_an_order_is_the_goods_only() -> None:
    order = delivered_order(T0, EXPRESS)
    return_lines(order, [(1, 1, None)])
    refund = refund_for(order, [(1, 1)], withdrawal=True, whole_order=whole_order_returned(order))
    # line 1: 2 x 10.00 net, 20.00 + 3.80 = 23.80 gross; one piece = 11.90
    assert refund.amount == Decimal("11.90")
    assert not refund.includes_shipping
    assert refund.lines == ((1, "TEE", 1),)


def test_withdrawal_of_the_whole_order_refunds_standard_shipping_not_express() -> None:
    order = delivered_order(T0, EXPRESS)
    return_lines(order, [(1, 2, None), (2, 3, None)])
    assert whole_order_returned(order)
    refund = refund_for(order, [(1, 2), (2, 3)], withdrawal=True, whole_order=True)
    # goods 2 x 11.90 + 3 x 3.96 (the displayed gross of 3.33 net, ADR 0017) = 35.68;
    # shipping capped at standard 4.95
    assert refund.amount == Decimal("35.68") + Decimal("4.95")
    assert refund.includes_shipping


def test_standard_shipping_is_refunded_in_full() -> None:
    standard = ShippingCharge(
        "standard", Decimal("4.16"), Decimal("0.19"), "EUR", standard_gross=None
    )
    order = delivered_order(T0, standard)
    refund = refund_for(order, [(1, 2), (2, 3)], withdrawal=True, whole_order=True)
    assert refund.amount == Decimal("35.68") + Decimal("4.95")


def test_goodwill_return_of_everything_refunds_no_shipping() -> None:
    order = delivered_order(T0, EXPRESS)
    refund = refund_for(order, [(1, 2), (2, 3)], withdrawal=False, whole_order=True)
    assert refund.amount == Decimal("35.68") and not refund.includes_shipping


def test_partial_line_refunds_round_half_up_per_line() -> None:
    order = delivered_order(T0)
    # line 2: 3 x 3.96 (3.33 net + 19 %, displayed) = 11.88; one of three = 3.96
    assert refund_for(order, [(2, 1)], withdrawal=True, whole_order=False).amount == Decimal("3.96")


# ------------------------------------------------------------------ return states


def a_return() -> Return:
    order = delivered_order(T0)
    return Return(
        id="r-1",
        order_id=order.id,
        order_number=order.number,
        withdrawal=True,
        lines=return_lines(order, [(1, 2, None)]),
        requested_at=T0,
    )


def test_return_is_received_then_completed() -> None:
    r = a_return()
    r.receive([(1, 2, "as_new", "restock")], T0)
    assert r.status == "received"
    assert r.inspected[0].sku == "TEE"
    r.complete(refund_for(delivered_order(T0), [(1, 2)], withdrawal=True, whole_order=False), T0)
    assert r.status == "completed"
    with pytest.raises(IllegalTransition) as caught:
        r.receive([(1, 2, "as_new", "restock")], T0)
    assert caught.value.current_state == "completed"


def test_completing_before_receipt_is_illegal() -> None:
    with pytest.raises(IllegalTransition):
        a_return().complete(
            refund_for(delivered_order(T0), [(1, 1)], withdrawal=True, whole_order=False), T0
        )


@pytest.mark.parametrize(
    ("inspected", "field"),
    [
        ([], ("lines",)),
        ([(2, 1, "as_new", "restock")], ("lines", 0, "line_no")),
        ([(1, 3, "as_new", "restock")], ("lines", 0, "quantity")),
        ([(1, 1, "as_new", "burn")], ("lines", 0, "disposition")),
    ],
)
def test_bad_inspection(
    inspected: list[tuple[int, int, str, str]], field: tuple[object, ...]
) -> None:
    r = a_return()
    with pytest.raises(OrderError) as caught:
        r.receive(inspected, T0)
    assert caught.value.field == field
    assert r.status == "requested"
