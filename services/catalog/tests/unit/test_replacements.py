"""Issue 10 point 9 over the in-memory unit of work: a complaint's replacement is a
shipment. The catalog reserves its piece like an order's and books it out at once
(on hand goes down), or takes nothing and says so when there is no stock."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest
from kontor_catalog.application.stock import on_order_placed, on_replacement_requested
from kontor_contracts.events.catalog import (
    ReplacementStockBooked,
    ReplacementStockRejected,
    StockAdjusted,
    StockReserved,
)
from kontor_contracts.events.orders import ReplacementRequested
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.fakes import FakeTransactor

from .test_stock_use_cases import AddProduct, adjusted, levels, placed

pytestmark = pytest.mark.unit


def replacement(complaint_id: str = "c-1", quantity: int = 1) -> ReplacementRequested:
    return ReplacementRequested(
        complaint_id=complaint_id,
        order_id="o-1",
        line_no=1,
        sku="TEE-RED-M",
        quantity=quantity,
        carrier="DHL",
        tracking_number="R1",
        requested_at=datetime(2026, 6, 5, 9, 0, tzinfo=UTC),
    )


async def test_a_replacement_is_reserved_and_booked_out_once(
    catalog: FakeTransactor[Any], clock: FakeClock, add_product: AddProduct
) -> None:
    await add_product(stock=5)
    handle = partial(on_replacement_requested, clock=clock)
    await catalog.deliver(handle, replacement())
    assert levels(catalog, "TEE-RED-M") == {"main": (4, 0, 4)}  # issue: on hand unchanged
    assert adjusted(catalog) == [("TEE-RED-M", "main", -1, 4, 4, "shipment", "c-1")]
    [booked] = catalog.db.events(ReplacementStockBooked)
    assert (booked.order_id, booked.complaint_id) == ("o-1", "c-1")
    assert [(x.sku, x.quantity, x.warehouse) for x in booked.lines] == [("TEE-RED-M", 1, "main")]
    # not an order's reservation: orders would take it for a second answer
    assert catalog.db.events(StockReserved) == []
    await catalog.deliver(handle, replacement())  # another event id, the same complaint
    assert levels(catalog, "TEE-RED-M") == {"main": (4, 0, 4)}
    assert len(catalog.db.events(ReplacementStockBooked)) == 1


async def test_a_replacement_takes_only_what_is_available(
    catalog: FakeTransactor[Any], clock: FakeClock, add_product: AddProduct
) -> None:
    await add_product(stock=2)
    await catalog.deliver(partial(on_order_placed, clock=clock), placed("o-2", ("TEE-RED-M", 2)))
    assert levels(catalog, "TEE-RED-M") == {"main": (2, 2, 0)}  # all of it promised
    await catalog.deliver(partial(on_replacement_requested, clock=clock), replacement())
    [rejected] = catalog.db.events(ReplacementStockRejected)
    assert [(r.sku, r.requested, r.available) for r in rejected.reasons] == [("TEE-RED-M", 1, 0)]
    assert levels(catalog, "TEE-RED-M") == {"main": (2, 2, 0)}  # nothing taken
    assert catalog.db.events(StockAdjusted) == []
    assert catalog.db.events(ReplacementStockBooked) == []
