"""The order state machine: every transition, legal and illegal, and out-of-order events,
and what each change records (``domain/events.py``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from kontor_orders.domain.events import (
    OrderWasCancelled,
    OrderWasConfirmed,
    OrderWasDelivered,
    OrderWasPaid,
    OrderWasPlaced,
    OrderWasRejected,
    OrderWasShipped,
    PaymentWasRecorded,
)
from kontor_orders.domain.order import (
    STATUSES,
    Address,
    Customer,
    IllegalTransition,
    Order,
    OrderError,
    PricedProduct,
    ShippingCharge,
)

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
TEE = PricedProduct("TEE", "T-Shirt", Decimal("10.00"), Decimal("0.19"), "EUR")
MUG = PricedProduct("MUG", "Tasse", Decimal("5.00"), Decimal("0.19"), "EUR")
ANNA = Customer(email="anna@example.de", name="Anna Muster")
HOME = Address(name="Anna", street="Hauptstr. 1", postcode="10115", city="Berlin", country="DE")


def later(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def placed() -> Order:
    order = Order.place(
        order_id="o-1",
        number="B-2026-000001",
        customer=ANNA,
        shipping_address=HOME,
        billing_address=None,
        requested=[("TEE", 2), ("MUG", 1)],
        products={"TEE": TEE, "MUG": MUG},
        now=T0,
    )
    assert order.pull_events() == [OrderWasPlaced("o-1")]
    return order


def confirmed() -> Order:
    order = placed()
    order.confirm(later(1))
    assert order.pull_events() == [OrderWasConfirmed("o-1", later(1))]
    return order


def paid() -> Order:
    order = confirmed()
    order.record_payment("p-1", order.gross_total, "EUR", later(2))
    assert OrderWasPaid("o-1", later(2)) in order.pull_events()
    return order


def partially_shipped() -> Order:
    order = paid()
    order.ship(shipment_id="s-1", carrier="DHL", tracking_number="1", lines=[(1, 1)], now=later(3))
    order.pull_events()
    return order


def shipped() -> Order:
    order = partially_shipped()
    order.ship(
        shipment_id="s-2", carrier="DPD", tracking_number="2", lines=[(1, 1), (2, 1)], now=later(4)
    )
    order.pull_events()
    return order


def delivered() -> Order:
    order = shipped()
    order.deliver(later(5), later(6))
    assert order.pull_events() == [OrderWasDelivered("o-1", later(5), "s-2")]
    return order


def rejected() -> Order:
    order = placed()
    order.reject("out_of_stock", ["TEE: requested 2, available 0"], later(1))
    assert order.pull_events() == [
        OrderWasRejected("o-1", "out_of_stock", ("TEE: requested 2, available 0",))
    ]
    return order


def cancelled() -> Order:
    order = confirmed()
    order.cancel("customer_request", "customer", later(2))
    order.pull_events()
    return order


def partially_returned() -> Order:
    order = delivered()
    order.take_back({1: 1}, later(7), return_id="r-1")
    assert order.pull_events() == []
    return order


def returned() -> Order:
    order = partially_returned()
    order.take_back({1: 1, 2: 1}, later(8), return_id="r-2")
    return order


IN_STATE: dict[str, Callable[[], Order]] = {
    "placed": placed,
    "confirmed": confirmed,
    "rejected": rejected,
    "cancelled": cancelled,
    "paid": paid,
    "partially_shipped": partially_shipped,
    "shipped": shipped,
    "delivered": delivered,
    "partially_returned": partially_returned,
    "returned": returned,
}


def test_every_status_has_a_builder() -> None:
    assert set(IN_STATE) == set(STATUSES)
    for status, build in IN_STATE.items():
        assert build().status == status


# ------------------------------------------------------------------ reservation saga


def test_reserved_order_is_confirmed_and_on_the_timeline() -> None:
    order = placed()
    order.confirm(later(1))
    assert order.pull_events() == [OrderWasConfirmed("o-1", later(1))]
    assert order.status == "confirmed"
    assert [e.event for e in order.timeline] == ["placed", "confirmed"]
    assert order.timeline[-1].at == later(1)


def test_rejected_reservation_rejects_with_reason() -> None:
    order = rejected()
    assert order.timeline[-1].event == "rejected"
    assert order.timeline[-1].details["reason"] == "out_of_stock"


@pytest.mark.parametrize("status", ["rejected", "cancelled"])
def test_reservation_answers_for_a_closed_order_only_land_on_the_timeline(status: str) -> None:
    order = IN_STATE[status]()
    order.confirm(later(30))
    order.reject("out_of_stock", [], later(31))
    assert order.pull_events() == []
    assert order.status == status
    assert [e.event for e in order.timeline[-2:]] == [
        "stock_reserved_ignored",
        "reservation_rejected_ignored",
    ]


@pytest.mark.parametrize(
    "status", ["confirmed", "paid", "partially_shipped", "shipped", "delivered"]
)
def test_a_second_reservation_answer_for_a_live_order_changes_nothing(status: str) -> None:
    order = IN_STATE[status]()
    before = list(order.timeline)
    order.confirm(later(30))
    assert order.pull_events() == []
    assert order.status == status and order.timeline == before
    order.reject("out_of_stock", [], later(31))
    assert order.pull_events() == []
    assert order.status == status
    assert order.timeline[-1].event == "reservation_rejected_after_confirmation"


# ------------------------------------------------------------------ payment


def test_payment_of_a_confirmed_order_makes_it_paid() -> None:
    order = paid()
    assert order.status == "paid"
    assert order.paid_at == later(2)
    assert order.timeline[-2].event == "payment_received"


def test_payment_before_confirmation_is_applied_on_confirmation() -> None:
    order = placed()
    order.record_payment("p-1", order.gross_total, "EUR", later(1))
    assert order.pull_events() == [PaymentWasRecorded("o-1", "p-1", order.gross_total)]
    assert order.status == "placed"
    order.confirm(later(2))
    assert order.pull_events() == [
        OrderWasConfirmed("o-1", later(2)),
        OrderWasPaid("o-1", later(2)),
    ]
    assert order.status == "paid"
    assert [e.event for e in order.timeline] == ["placed", "payment_received", "confirmed", "paid"]


def test_partial_payments_add_up() -> None:
    order = confirmed()
    order.record_payment("p-1", Decimal("10.00"), "EUR", later(2))
    assert order.pull_events() == [PaymentWasRecorded("o-1", "p-1", Decimal("10.00"))]
    assert order.status == "confirmed"
    order.record_payment("p-2", order.gross_total - Decimal("10.00"), "EUR", later(3))
    assert OrderWasPaid("o-1", later(3)) in order.pull_events()
    assert order.status == "paid"
    assert order.paid_at == later(3)


@pytest.mark.parametrize("status", ["partially_shipped", "shipped", "delivered"])
def test_payment_after_shipping_keeps_the_shipping_status(status: str) -> None:
    order = IN_STATE[status]()
    order.record_payment("p-9", Decimal("1.00"), "EUR", later(40))
    assert order.status == status
    assert order.timeline[-1].event == "payment_received"


@pytest.mark.parametrize("status", ["rejected", "cancelled"])
def test_payment_for_a_closed_order_records_a_refund_due(status: str) -> None:
    order = IN_STATE[status]()
    order.record_payment("p-1", Decimal("5.00"), "EUR", later(40))
    assert order.pull_events() == [PaymentWasRecorded("o-1", "p-1", Decimal("5.00"))]
    assert order.status == status
    assert order.timeline[-1].event == "refund_due"


# ------------------------------------------------------------------ cancellation


@pytest.mark.parametrize("status", ["placed", "confirmed", "paid"])
def test_cancel_before_shipping_releases_every_line(status: str) -> None:
    order = IN_STATE[status]()
    order.cancel("customer_request", "customer", later(30))
    assert order.status == "cancelled"
    assert order.pull_events() == [
        OrderWasCancelled("o-1", "customer_request", "customer", (("TEE", 2), ("MUG", 1)))
    ]
    entry = next(e for e in order.timeline if e.event == "cancelled")
    assert entry.details == {"reason": "customer_request", "cancelled_by": "customer"}


def test_cancelling_a_paid_order_records_the_refund_due() -> None:
    order = paid()
    order.cancel("customer_request", "customer", later(30))
    assert [e.event for e in order.timeline[-2:]] == ["cancelled", "refund_due"]


@pytest.mark.parametrize(
    "status",
    [
        "rejected",
        "cancelled",
        "partially_shipped",
        "shipped",
        "delivered",
        "partially_returned",
        "returned",
    ],
)
def test_cancel_after_shipping_or_closing_is_illegal(status: str) -> None:
    order = IN_STATE[status]()
    before = list(order.timeline)
    with pytest.raises(IllegalTransition) as caught:
        order.cancel("x", "merchant", later(30))
    assert caught.value.current_state == status
    assert str(caught.value) == f"cannot cancel order B-2026-000001: it is {status}"
    assert order.status == status and order.timeline == before
    assert order.pull_events() == []


# ------------------------------------------------------------------ shipping


@pytest.mark.parametrize("status", ["confirmed", "paid"])
def test_shipping_part_then_rest(status: str) -> None:
    order = IN_STATE[status]()
    order.ship(shipment_id="s-1", carrier="DHL", tracking_number="1", lines=[(1, 1)], now=later(9))
    assert order.status == "partially_shipped"
    assert order.shipped_quantity(1) == 1
    assert order.pull_events() == [
        OrderWasShipped("o-1", "s-1", "DHL", "1", ((1, "TEE", 1),), False, later(9))
    ]
    order.ship(
        shipment_id="s-2", carrier="DHL", tracking_number="2", lines=[(1, 1), (2, 1)], now=later(10)
    )
    assert order.status == "shipped"
    assert order.pull_events() == [
        OrderWasShipped("o-1", "s-2", "DHL", "2", ((1, "TEE", 1), (2, "MUG", 1)), True, later(10))
    ]
    assert order.completely_shipped
    assert order.timeline[-1].details["tracking_number"] == "2"


def test_shipping_everything_at_once_is_shipped() -> None:
    order = paid()
    order.ship(shipment_id="s", carrier="DHL", tracking_number=None, lines=[(1, 2), (2, 1)], now=T0)
    assert order.status == "shipped"


@pytest.mark.parametrize(
    "status", ["placed", "rejected", "cancelled", "shipped", "delivered", "returned"]
)
def test_shipping_in_other_states_is_illegal(status: str) -> None:
    order = IN_STATE[status]()
    with pytest.raises(IllegalTransition) as caught:
        order.ship(shipment_id="s", carrier="DHL", tracking_number=None, lines=[(2, 1)], now=T0)
    assert caught.value.current_state == status


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([], ("lines",)),
        ([(3, 1)], ("lines", 0, "line_no")),
        ([(1, 3)], ("lines", 0, "quantity")),
        ([(1, 1), (1, 1)], ("lines", 1, "line_no")),
    ],
)
def test_bad_shipment_lines_are_refused_with_their_path(
    lines: list[tuple[int, int]], field: tuple[str | int, ...]
) -> None:
    order = paid()
    with pytest.raises(OrderError) as caught:
        order.ship(shipment_id="s", carrier="DHL", tracking_number=None, lines=lines, now=T0)
    assert caught.value.field == field
    assert order.status == "paid" and order.shipments == []


def test_cannot_ship_more_than_is_left() -> None:
    order = partially_shipped()
    with pytest.raises(OrderError) as caught:
        order.ship(shipment_id="s", carrier="DHL", tracking_number=None, lines=[(1, 2)], now=T0)
    assert "1 piece(s) left" in str(caught.value)


# ------------------------------------------------------------------ delivery


def test_delivery_of_a_shipped_order() -> None:
    order = delivered()
    assert order.status == "delivered"
    assert order.delivered_at == later(5)


@pytest.mark.parametrize("status", [s for s in STATUSES if s != "shipped"])
def test_delivery_in_other_states_is_illegal(status: str) -> None:
    with pytest.raises(IllegalTransition):
        IN_STATE[status]().deliver(later(50), later(50))


def test_delivery_cannot_be_in_the_future_or_before_shipping() -> None:
    with pytest.raises(OrderError):
        shipped().deliver(later(60), later(59))
    with pytest.raises(OrderError):
        shipped().deliver(later(3), later(59))


# ------------------------------------------------------------------ totals with shipping


def test_shipping_is_part_of_the_totals() -> None:
    order = Order.place(
        order_id="o",
        number="n",
        customer=ANNA,
        shipping_address=HOME,
        billing_address=None,
        requested=[("TEE", 1)],
        products={"TEE": TEE},
        now=T0,
        shipping=ShippingCharge("express", Decimal("9.90"), Decimal("0.19"), "EUR"),
    )
    assert order.net_total == Decimal("19.90")
    assert order.vat_total == Decimal("1.90") + Decimal("1.88")
    assert order.gross_total == Decimal("23.68")


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        placed().confirm(datetime(2026, 6, 1, 9, 0))  # noqa: DTZ001


# ------------------------------------------------------------------ goods coming back


def test_goods_coming_back_make_the_order_partially_returned_then_returned() -> None:
    order = delivered()
    order.take_back({1: 1}, later(7), return_id="r-1")
    assert order.status == "partially_returned"
    assert (order.timeline[-1].event, order.timeline[-1].details) == (
        "partially_returned",
        {"return_id": "r-1"},
    )
    order.take_back({1: 1, 2: 1}, later(8), return_id="r-2")
    assert order.status == "returned"
    assert order.taken_back == {1: 2, 2: 1}


def test_a_fully_returned_shipped_order_can_no_longer_be_marked_delivered() -> None:
    # issue 10 point 11: it stayed "shipped" and could still be delivered
    order = shipped()
    order.take_back({1: 2, 2: 1}, later(7), return_id="r-1")
    assert order.status == "returned"
    with pytest.raises(IllegalTransition) as caught:
        order.deliver(later(8), later(8))
    assert caught.value.current_state == "returned"
    assert order.delivered_at is None and order.pull_events() == []


def test_a_partly_returned_order_is_delivered_without_hiding_the_return() -> None:
    order = shipped()
    order.take_back({2: 1}, later(7), return_id="r-1")
    order.deliver(later(7), later(8))
    assert order.status == "partially_returned" and order.delivered_at == later(7)
    assert order.pull_events() == [OrderWasDelivered("o-1", later(7), "s-2")]
    assert order.timeline[-1].event == "delivered"
    with pytest.raises(IllegalTransition):  # once
        order.deliver(later(8), later(8))


def test_the_rest_of_a_partly_returned_order_can_still_ship() -> None:
    order = partially_shipped()
    order.take_back({1: 1}, later(5), return_id="r-1")
    assert order.status == "partially_returned"
    order.ship(
        shipment_id="s-2", carrier="DHL", tracking_number=None, lines=[(1, 1), (2, 1)], now=later(6)
    )
    assert order.status == "partially_returned" and order.completely_shipped


@pytest.mark.parametrize("status", ["placed", "confirmed", "paid", "cancelled", "returned"])
def test_goods_cannot_come_back_of_an_order_that_has_none_out(status: str) -> None:
    with pytest.raises(IllegalTransition):
        IN_STATE[status]().take_back({1: 1}, later(50))
