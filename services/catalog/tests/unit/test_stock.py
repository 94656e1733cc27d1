"""Reservation planning and inventory counts: all lines or none, never negative."""

from __future__ import annotations

import pytest
from kontor_catalog.domain.stock import (
    Allocation,
    CountBelowReserved,
    Requested,
    ReservedLine,
    Shortfall,
    StockError,
    StockLevel,
    check_warehouse,
    counted_delta,
    plan_reservation,
    plan_shipment,
)


def level(sku: str, warehouse: str, on_hand: int, reserved: int = 0) -> StockLevel:
    return StockLevel(sku, warehouse, on_hand, reserved)


def test_every_line_reserved_from_the_default_warehouse_first() -> None:
    plan = plan_reservation(
        [Requested("A", 2), Requested("B", 1)],
        [level("A", "east", 10), level("A", "main", 5), level("B", "main", 1)],
    )
    assert plan.ok
    assert plan.allocations == (Allocation("A", "main", 2), Allocation("B", "main", 1))


def test_a_line_is_split_across_warehouses_when_none_holds_enough() -> None:
    plan = plan_reservation(
        [Requested("A", 7)], [level("A", "main", 3, reserved=1), level("A", "east", 6)]
    )
    assert plan.allocations == (Allocation("A", "main", 2), Allocation("A", "east", 5))


def test_one_short_line_rejects_the_whole_order() -> None:
    plan = plan_reservation(
        [Requested("A", 1), Requested("B", 3)],
        [level("A", "main", 10), level("B", "main", 4, reserved=2)],
    )
    assert not plan.ok
    assert plan.allocations == ()
    assert plan.shortfalls == (Shortfall("B", requested=3, available=2),)


def test_same_sku_on_two_lines_is_added_up() -> None:
    plan = plan_reservation([Requested("A", 2), Requested("A", 2)], [level("A", "main", 3)])
    assert plan.shortfalls == (Shortfall("A", requested=4, available=3),)
    ok = plan_reservation([Requested("A", 2), Requested("A", 1)], [level("A", "main", 3)])
    assert ok.allocations == (Allocation("A", "main", 3),)


def test_unknown_sku_is_a_shortfall_with_nothing_available() -> None:
    plan = plan_reservation([Requested("NOPE", 1)], [])
    assert plan.shortfalls == (Shortfall("NOPE", requested=1, available=0),)


def test_empty_or_non_positive_requests_are_refused() -> None:
    with pytest.raises(StockError):
        plan_reservation([], [])
    with pytest.raises(StockError):
        plan_reservation([Requested("A", 0)], [level("A", "main", 1)])


def test_count_books_the_difference_and_refuses_less_than_reserved() -> None:
    assert counted_delta(level("A", "main", 10, reserved=2), 7) == -3
    assert counted_delta(level("A", "main", 10, reserved=2), 12) == 2
    assert counted_delta(level("A", "main", 10, reserved=2), 2) == -8
    with pytest.raises(CountBelowReserved, match="reserved"):
        counted_delta(level("A", "main", 10, reserved=2), 1)
    with pytest.raises(StockError):
        counted_delta(level("A", "main", 0), -1)


def test_warehouse_ids() -> None:
    assert check_warehouse("main") == "main"
    for bad in ("", "Main", "a/b", "x" * 33):
        with pytest.raises(StockError):
            check_warehouse(bad)


def test_shipment_takes_from_the_shipping_warehouse_first_then_the_rest() -> None:
    lines = [
        ReservedLine("A", "main", 2),
        ReservedLine("A", "east", 3, shipped=1),
        ReservedLine("B", "main", 1),
    ]
    assert plan_shipment(lines, "A", 3, "east") == ([(1, 2), (0, 1)], 0)
    assert plan_shipment(lines, "A", 3, None) == ([(0, 2), (1, 1)], 0)
    assert plan_shipment(lines, "A", 6, None) == ([(0, 2), (1, 2)], 2)
    assert plan_shipment(lines, "C", 1, None) == ([], 1)
    assert plan_shipment([ReservedLine("A", "main", 2, shipped=2)], "A", 1) == ([], 1)
