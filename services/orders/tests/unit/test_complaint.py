"""Complaints: filing rules, warranty period, resolution by replacement or refund."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from kontor_orders.domain.complaint import Complaint, WarrantyExpired, warranty_end
from kontor_orders.domain.order import (
    Address,
    Customer,
    IllegalTransition,
    Order,
    OrderError,
    PricedProduct,
)
from kontor_orders.domain.refunds import RefundExceedsRemaining

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
TEE = PricedProduct("TEE", "T-Shirt", Decimal("10.00"), Decimal("0.19"), "EUR")
MUG = PricedProduct("MUG", "Tasse", Decimal("5.00"), Decimal("0.19"), "EUR")


def order(deliver: bool = True) -> Order:
    o = Order.place(
        order_id="o-1",
        number="B-2026-000001",
        customer=Customer(email="anna@example.de", name="Anna"),
        shipping_address=Address("Anna", "Hauptstr. 1", "10115", "Berlin", "DE"),
        billing_address=None,
        requested=[("TEE", 2), ("MUG", 1)],
        products={"TEE": TEE, "MUG": MUG},
        now=T0,
    )
    o.confirm(T0)
    o.ship(shipment_id="s", carrier="DHL", tracking_number=None, lines=[(1, 2)], now=T0)
    if deliver:
        o.ship(shipment_id="s2", carrier="DHL", tracking_number=None, lines=[(2, 1)], now=T0)
        o.deliver(T0, T0)
    return o


def file(o: Order, line_no: int = 1, now: datetime = T0) -> Complaint:
    return Complaint.file(
        complaint_id="c-1",
        order=o,
        line_no=line_no,
        description="Naht offen",
        photo_ids=["p-1"],
        kind="defect",
        desired_remedy="replacement",
        now=now,
    )


def test_complaint_is_filed_for_a_shipped_line() -> None:
    c = file(order())
    assert (c.sku, c.status, c.photo_ids) == ("TEE", "open", ["p-1"])


def test_no_complaint_for_an_unknown_or_unshipped_line() -> None:
    with pytest.raises(OrderError):
        file(order(), line_no=7)
    with pytest.raises(IllegalTransition):
        file(order(deliver=False), line_no=2)


def test_warranty_is_two_years_from_delivery() -> None:
    assert warranty_end(T0) == T0.replace(year=2028)
    assert warranty_end(datetime(2028, 2, 29, tzinfo=UTC)) == datetime(2030, 2, 28, tzinfo=UTC)
    file(order(), now=T0.replace(year=2028))
    with pytest.raises(WarrantyExpired):
        file(order(), now=T0.replace(year=2028) + timedelta(seconds=1))


def test_resolution_by_replacement() -> None:
    # issue 10 point 9: a replacement waits for the catalog to book it out
    o = order()
    c = file(o)
    r = c.resolve_by_replacement(carrier="DHL", tracking_number="X1", note=None, now=T0)
    assert c.status == "replacement_pending"
    assert r.remedy == "replacement" and r.tracking_number == "X1"
    with pytest.raises(IllegalTransition) as caught:
        c.resolve_by_replacement(carrier="DHL", tracking_number=None, note=None, now=T0)
    assert caught.value.current_state == "replacement_pending"
    c.replacement_booked(o, T0)
    assert c.status == "resolved"
    c.replacement_rejected(o, "too late", T0)  # an answer for a resolved complaint
    assert c.status == "resolved" and c.replacement_refused is None


def test_refund_defaults_to_one_piece_and_is_capped_by_the_line() -> None:
    o = order()
    assert file(o).resolve_by_refund(o, amount=None, note=None, now=T0).refund_amount == Decimal(
        "11.90"
    )
    assert file(o).resolve_by_refund(
        o, amount=Decimal("5"), note="Minderung", now=T0
    ).refund_amount == Decimal("5")
    c = file(o)
    with pytest.raises(OrderError):
        c.resolve_by_refund(o, amount=Decimal("0"), note=None, now=T0)
    assert c.status == "open"
    # above the line's gross (23.80): refused, naming what is left (issue 10 point 6:
    # a 409 with the remaining amount, no longer a 422 naming the line's gross)
    fresh = order()
    c = file(fresh)
    with pytest.raises(RefundExceedsRemaining) as caught:
        c.resolve_by_refund(fresh, amount=Decimal("23.81"), note=None, now=T0)
    assert caught.value.details == {"remaining": "23.80", "currency": "EUR"}
    assert c.status == "open"
