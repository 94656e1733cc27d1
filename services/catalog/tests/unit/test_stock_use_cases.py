"""The stock use cases over the in-memory unit of work: receipts, counts, reservations,
releases, shipments and returns (the consumer's handlers delivered as the kit would)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from kontor_catalog.application.stock import (
    count_stock,
    on_order_cancelled,
    on_order_placed,
    on_order_rejected,
    on_order_shipped,
    on_return_received,
    receive_goods,
    reserve_order,
)
from kontor_catalog.domain.errors import UnknownProduct
from kontor_catalog.domain.product_view import ProductView
from kontor_catalog.domain.stock import (
    BeyondStock,
    CountBelowReserved,
    Requested,
    ReservedLine,
    StockError,
)
from kontor_contracts.events.catalog import (
    StockAdjusted,
    StockReleased,
    StockReservationRejected,
    StockReserved,
)
from kontor_contracts.events.orders import (
    PREPAYMENT_NOT_RECEIVED,
    OrderCancelled,
    OrderPlaced,
    OrderRejected,
    OrderShipped,
    ReceivedReturnLine,
    ReturnReceived,
    ShippedLine,
)
from kontor_contracts.samples import order_placed_envelope
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.fakes import FakeTransactor, envelope_of

pytestmark = pytest.mark.unit

AddProduct = Callable[..., Awaitable[ProductView]]


def placed(order_id: str, *lines: tuple[str, int]) -> OrderPlaced:
    sample = order_placed_envelope(order_id).payload_model()
    assert isinstance(sample, OrderPlaced)
    line = sample.lines[0]
    return sample.model_copy(
        update={
            "lines": [
                line.model_copy(update={"line_no": no, "sku": sku, "quantity": quantity})
                for no, (sku, quantity) in enumerate(lines, start=1)
            ]
        }
    )


def shipped(
    order_id: str, shipment_id: str, *lines: tuple[str, int], **fields: Any
) -> OrderShipped:
    return OrderShipped(
        order_id=order_id,
        shipment_id=shipment_id,
        carrier="DHL",
        lines=[
            ShippedLine(line_no=no, sku=sku, quantity=quantity)
            for no, (sku, quantity) in enumerate(lines, start=1)
        ],
        complete=False,
        **fields,
    )


def levels(catalog: FakeTransactor[Any], sku: str) -> dict[str, tuple[int, int, int]]:
    return {
        level.warehouse: (level.on_hand, level.reserved, level.available)
        for level in catalog.db.rows("stock")
        if level.sku == sku
    }


def adjusted(catalog: FakeTransactor[Any]) -> list[tuple[str, str, int, int, int, str, str | None]]:
    return [
        (e.sku, e.warehouse, e.delta, e.on_hand, e.available, e.reason, e.reference)
        for e in catalog.db.events(StockAdjusted)
    ]


async def test_a_goods_receipt_adds_on_hand_in_its_warehouse_and_is_announced(
    catalog: FakeTransactor[Any], add_product: AddProduct
) -> None:
    await add_product(stock=10)
    stock = await receive_goods(
        catalog, sku="TEE-RED-M", warehouse="east", quantity=5, reference="LS-1", note="ok"
    )
    assert stock.as_dict() == {
        "sku": "TEE-RED-M",
        "on_hand": 15,
        "reserved": 0,
        "available": 15,
        "warehouses": [
            {"warehouse": "east", "on_hand": 5, "reserved": 0, "available": 5},
            {"warehouse": "main", "on_hand": 10, "reserved": 0, "available": 10},
        ],
    }
    assert adjusted(catalog) == [("TEE-RED-M", "east", 5, 5, 15, "goods_receipt", "LS-1")]
    assert catalog.db.events(StockAdjusted)[0].note == "ok"
    assert catalog.db.outbox[-1].aggregate_id == "TEE-RED-M"


async def test_receipts_of_unknown_products_or_bad_input_change_nothing(
    catalog: FakeTransactor[Any], add_product: AddProduct
) -> None:
    await add_product(stock=10)
    with pytest.raises(UnknownProduct, match="'NOPE'"):
        await receive_goods(catalog, sku="NOPE", warehouse="main", quantity=1)
    with pytest.raises(StockError) as zero:
        await receive_goods(catalog, sku="TEE-RED-M", warehouse="main", quantity=0)
    assert zero.value.field == ("quantity",)
    with pytest.raises(StockError) as bad:
        await receive_goods(catalog, sku="TEE-RED-M", warehouse="Bad/Id", quantity=1)
    assert bad.value.field == ("warehouse",)
    assert levels(catalog, "TEE-RED-M") == {"main": (10, 0, 10)}
    assert catalog.db.events(StockAdjusted) == []


async def test_a_count_books_the_difference_and_below_reserved_is_refused_with_the_stock(
    catalog: FakeTransactor[Any], clock: FakeClock, add_product: AddProduct
) -> None:
    await add_product(stock=10)
    await count_stock(catalog, sku="TEE-RED-M", warehouse="main", counted=8, reference="INV-1")
    assert adjusted(catalog) == [("TEE-RED-M", "main", -2, 8, 8, "inventory_count", "INV-1")]
    await catalog.deliver(partial(on_order_placed, clock=clock), placed("o-1", ("TEE-RED-M", 3)))
    with pytest.raises(CountBelowReserved, match="2 counted but 3 reserved") as refused:
        await count_stock(catalog, sku="TEE-RED-M", warehouse="main", counted=2)
    assert refused.value.details["current_state"] == {
        "sku": "TEE-RED-M",
        "on_hand": 8,
        "reserved": 3,
        "available": 5,
        "warehouses": [{"warehouse": "main", "on_hand": 8, "reserved": 3, "available": 5}],
    }
    assert levels(catalog, "TEE-RED-M") == {"main": (8, 3, 5)}
    assert len(catalog.db.events(StockAdjusted)) == 1
    # counting exactly what is reserved is fine, and so is a count in a new warehouse
    await count_stock(catalog, sku="TEE-RED-M", warehouse="main", counted=3)
    await count_stock(catalog, sku="TEE-RED-M", warehouse="east", counted=0)
    assert levels(catalog, "TEE-RED-M") == {"main": (3, 3, 0), "east": (0, 0, 0)}


async def test_an_order_is_reserved_in_full_from_the_default_warehouse_first(
    catalog: FakeTransactor[Any], clock: FakeClock, add_product: AddProduct
) -> None:
    await add_product("TEE-RED-M", stock=2)
    await add_product("MUG-1", stock=1)
    await receive_goods(catalog, sku="TEE-RED-M", warehouse="east", quantity=5)
    await catalog.deliver(
        partial(on_order_placed, clock=clock), placed("o-1", ("TEE-RED-M", 4), ("MUG-1", 1))
    )
    [reserved] = catalog.db.events(StockReserved)
    assert reserved.order_id == "o-1"
    assert [(line.sku, line.quantity, line.warehouse) for line in reserved.lines] == [
        ("TEE-RED-M", 2, "main"),
        ("TEE-RED-M", 2, "east"),
        ("MUG-1", 1, "main"),
    ]
    assert catalog.db.outbox[-1].aggregate_id == "o-1"
    assert levels(catalog, "TEE-RED-M") == {"main": (2, 2, 0), "east": (5, 2, 3)}
    assert levels(catalog, "MUG-1") == {"main": (1, 1, 0)}
    [reservation] = catalog.db.rows("reservations")
    assert (reservation.status, reservation.created_at) == ("reserved", clock())


async def test_one_short_line_rejects_the_whole_order_and_reserves_nothing(
    catalog: FakeTransactor[Any], clock: FakeClock, add_product: AddProduct
) -> None:
    await add_product("TEE-RED-M", stock=5)
    await add_product("MUG-1", stock=1)
    await catalog.deliver(
        partial(on_order_placed, clock=clock),
        placed("o-1", ("TEE-RED-M", 1), ("MUG-1", 2), ("NOPE", 1)),
    )
    [rejected] = catalog.db.events(StockReservationRejected)
    assert [(r.sku, r.requested, r.available) for r in rejected.reasons] == [
        ("MUG-1", 2, 1),
        ("NOPE", 1, 0),
    ]
    assert catalog.db.events(StockReserved) == []
    assert levels(catalog, "TEE-RED-M") == {"main": (5, 0, 5)}
    assert levels(catalog, "MUG-1") == {"main": (1, 0, 1)}
    [reservation] = catalog.db.rows("reservations")
    assert (reservation.status, reservation.lines) == ("rejected", [])
    assert [(s.sku, s.requested, s.available) for s in reservation.shortfalls] == [
        ("MUG-1", 2, 1),
        ("NOPE", 1, 0),
    ]


async def test_an_order_is_reserved_once_whatever_is_redelivered(
    catalog: FakeTransactor[Any], clock: FakeClock, add_product: AddProduct
) -> None:
    await add_product(stock=5)
    handle = partial(on_order_placed, clock=clock)
    event = placed("o-1", ("TEE-RED-M", 2))
    envelope = envelope_of(event)
    assert await catalog.deliver(handle, event, envelope) is True
    assert await catalog.deliver(handle, event, envelope) is False  # the inbox knows it
    assert await catalog.deliver(handle, event) is True  # the same order, another event id

    async def again(uow: Any) -> str:
        outcome = await reserve_order(uow, "o-1", [Requested("TEE-RED-M", 2)], now=clock())
        return outcome.status

    assert await catalog.run(again) == "duplicate"
    assert len(catalog.db.events(StockReserved)) == 1
    assert levels(catalog, "TEE-RED-M") == {"main": (5, 2, 3)}


async def test_cancelling_or_rejecting_releases_what_is_held_once(
    catalog: FakeTransactor[Any], clock: FakeClock, add_product: AddProduct
) -> None:
    await add_product(stock=5)
    reserve = partial(on_order_placed, clock=clock)
    await catalog.deliver(reserve, placed("o-1", ("TEE-RED-M", 2)))
    await catalog.deliver(reserve, placed("o-2", ("TEE-RED-M", 1)))
    clock.advance(timedelta(hours=1))
    cancel = partial(on_order_cancelled, clock=clock)
    await catalog.deliver(cancel, OrderCancelled(order_id="o-1", reason="customer"))
    await catalog.deliver(cancel, OrderCancelled(order_id="o-1", reason="customer"))
    await catalog.deliver(
        partial(on_order_rejected, clock=clock), OrderRejected(order_id="o-2", reason="payment")
    )
    await catalog.deliver(cancel, OrderCancelled(order_id="never-here", reason="customer"))
    released = catalog.db.events(StockReleased)
    assert [(e.order_id, e.reason) for e in released] == [
        ("o-1", "order_cancelled"),
        ("o-2", "order_rejected"),
    ]
    assert [(line.sku, line.quantity, line.warehouse) for line in released[0].lines] == [
        ("TEE-RED-M", 2, "main")
    ]
    assert levels(catalog, "TEE-RED-M") == {"main": (5, 0, 5)}
    by_order = {r.order_id: r for r in catalog.db.rows("reservations")}
    assert (by_order["o-1"].status, by_order["o-1"].released_at) == ("released", clock())
    assert by_order["o-1"].release_reason == "order_cancelled"


async def test_an_unpaid_prepayment_releases_its_reservation_as_expired(
    catalog: FakeTransactor[Any], clock: FakeClock, add_product: AddProduct
) -> None:
    # issue 10 point 14: reservations never expired; orders cancels unpaid prepayments
    await add_product(stock=5)
    await catalog.deliver(partial(on_order_placed, clock=clock), placed("o-1", ("TEE-RED-M", 2)))
    unpaid = OrderCancelled(order_id="o-1", reason=PREPAYMENT_NOT_RECEIVED, cancelled_by="system")
    await catalog.deliver(partial(on_order_cancelled, clock=clock), unpaid)
    [released] = catalog.db.events(StockReleased)
    assert (released.order_id, released.reason) == ("o-1", "expired")
    assert levels(catalog, "TEE-RED-M") == {"main": (5, 0, 5)}


async def test_a_rejected_reservation_releases_nothing(
    catalog: FakeTransactor[Any], clock: FakeClock, add_product: AddProduct
) -> None:
    await add_product(stock=1)
    await catalog.deliver(partial(on_order_placed, clock=clock), placed("o-1", ("TEE-RED-M", 2)))
    await catalog.deliver(
        partial(on_order_rejected, clock=clock), OrderRejected(order_id="o-1", reason="stock")
    )
    assert catalog.db.events(StockReleased) == []
    assert levels(catalog, "TEE-RED-M") == {"main": (1, 0, 1)}


async def test_a_shipment_leaves_the_reservation_once_and_cancelling_releases_the_rest(
    catalog: FakeTransactor[Any], clock: FakeClock, add_product: AddProduct
) -> None:
    await add_product(stock=5)
    await catalog.deliver(partial(on_order_placed, clock=clock), placed("o-1", ("TEE-RED-M", 3)))
    ship = partial(on_order_shipped, clock=clock)
    first = shipped("o-1", "s-1", ("TEE-RED-M", 2))
    await catalog.deliver(ship, first)
    await catalog.deliver(ship, first)  # another event id, the same shipment: booked once
    assert adjusted(catalog) == [("TEE-RED-M", "main", -2, 3, 2, "shipment", "s-1")]
    assert levels(catalog, "TEE-RED-M") == {"main": (3, 1, 2)}
    [reservation] = catalog.db.rows("reservations")
    assert reservation.lines == [ReservedLine("TEE-RED-M", "main", 3, shipped=2)]
    [booked] = catalog.db.rows("shipments")
    assert (booked.shipment_id, booked.order_id, booked.booked_at) == ("s-1", "o-1", clock())

    await catalog.deliver(
        partial(on_order_cancelled, clock=clock), OrderCancelled(order_id="o-1", reason="late")
    )
    [released] = catalog.db.events(StockReleased)
    assert [(line.sku, line.quantity) for line in released.lines] == [("TEE-RED-M", 1)]
    assert levels(catalog, "TEE-RED-M") == {"main": (3, 0, 3)}


async def test_a_fully_shipped_order_has_nothing_to_release(
    catalog: FakeTransactor[Any], clock: FakeClock, add_product: AddProduct
) -> None:
    await add_product(stock=5)
    await catalog.deliver(partial(on_order_placed, clock=clock), placed("o-1", ("TEE-RED-M", 2)))
    await catalog.deliver(
        partial(on_order_shipped, clock=clock), shipped("o-1", "s-1", ("TEE-RED-M", 2))
    )
    await catalog.deliver(
        partial(on_order_cancelled, clock=clock), OrderCancelled(order_id="o-1", reason="late")
    )
    assert catalog.db.events(StockReleased) == []
    assert levels(catalog, "TEE-RED-M") == {"main": (3, 0, 3)}
    assert catalog.db.rows("reservations")[0].status == "reserved"


async def test_the_shipping_warehouse_lines_go_first_and_pieces_beyond_come_from_available(
    catalog: FakeTransactor[Any], clock: FakeClock, add_product: AddProduct
) -> None:
    await add_product(stock=2)
    await receive_goods(catalog, sku="TEE-RED-M", warehouse="east", quantity=4)
    await catalog.deliver(partial(on_order_placed, clock=clock), placed("o-1", ("TEE-RED-M", 4)))
    assert levels(catalog, "TEE-RED-M") == {"main": (2, 2, 0), "east": (4, 2, 2)}
    # ships 5 from east: its 2 reserved there, then 2 reserved in main, 1 beyond from east
    await catalog.deliver(
        partial(on_order_shipped, clock=clock),
        shipped("o-1", "s-1", ("TEE-RED-M", 5), warehouse="east"),
    )
    assert [(w, delta, reason) for _, w, delta, _, _, reason, _ in adjusted(catalog)[1:]] == [
        ("east", -2, "shipment"),
        ("main", -2, "shipment"),
        ("east", -1, "shipment"),
    ]
    assert levels(catalog, "TEE-RED-M") == {"main": (0, 0, 0), "east": (1, 0, 1)}
    assert adjusted(catalog)[-1][4] == 1  # available in all warehouses afterwards


async def test_an_unreserved_shipment_takes_what_is_available_but_never_goes_negative(
    catalog: FakeTransactor[Any], clock: FakeClock, add_product: AddProduct
) -> None:
    await add_product(stock=3)
    ship = partial(on_order_shipped, clock=clock)
    await catalog.deliver(ship, shipped("o-2", "s-2", ("TEE-RED-M", 2)))
    assert levels(catalog, "TEE-RED-M") == {"main": (1, 0, 1)}
    with pytest.raises(BeyondStock, match="shipment s-3: 2 x TEE-RED-M shipped from main"):
        await catalog.deliver(ship, shipped("o-3", "s-3", ("TEE-RED-M", 2)))
    assert levels(catalog, "TEE-RED-M") == {"main": (1, 0, 1)}
    assert [s.shipment_id for s in catalog.db.rows("shipments")] == ["s-2"]  # s-3 not booked
    assert len(catalog.db.events(StockAdjusted)) == 1


async def test_returned_pieces_marked_restock_go_back_where_they_arrived(
    catalog: FakeTransactor[Any], clock: FakeClock, add_product: AddProduct
) -> None:
    await add_product("TEE-RED-M", stock=5)
    await add_product("MUG-1", stock=1)
    received = ReturnReceived(
        return_id="ret-1",
        order_id="o-1",
        lines=[
            ReceivedReturnLine(
                sku="TEE-RED-M", quantity=1, condition="as_new", disposition="restock"
            ),
            ReceivedReturnLine(
                sku="MUG-1", quantity=1, condition="damaged", disposition="write_off"
            ),
            ReceivedReturnLine(
                sku="TEE-RED-M",
                quantity=2,
                condition="as_new",
                disposition="restock",
                warehouse="east",
            ),
        ],
    )
    await catalog.deliver(partial(on_return_received, clock=clock), received)
    assert levels(catalog, "TEE-RED-M") == {"main": (6, 0, 6), "east": (2, 0, 2)}
    assert levels(catalog, "MUG-1") == {"main": (1, 0, 1)}
    assert adjusted(catalog) == [
        ("TEE-RED-M", "main", 1, 6, 6, "return_restock", "ret-1"),
        ("TEE-RED-M", "east", 2, 2, 8, "return_restock", "ret-1"),
    ]


async def test_an_order_without_lines_is_refused_and_nothing_is_recorded(
    catalog: FakeTransactor[Any], clock: FakeClock, add_product: AddProduct
) -> None:
    await add_product(stock=5)

    async def empty(uow: Any) -> Any:
        return await reserve_order(uow, "o-1", [], now=clock())

    with pytest.raises(StockError):
        await catalog.run(empty)
    assert catalog.db.tables.get("reservations", {}) == {}
