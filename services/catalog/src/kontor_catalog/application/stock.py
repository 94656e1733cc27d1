"""Use cases of stock: goods receipt, inventory count, reservations, releases, returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.catalog import (
    ReservationLine,
    ReservationShortfall,
    StockAdjusted,
    StockReleased,
    StockReservationRejected,
    StockReserved,
)
from kontor_contracts.events.orders import (
    OrderCancelled,
    OrderPlaced,
    OrderRejected,
    OrderShipped,
    ReturnReceived,
)
from kontor_servicekit.clock import utc_now
from kontor_servicekit.consumer import PermanentError
from kontor_servicekit.store import Store, Transaction

from kontor_catalog.domain.stock import (
    DEFAULT_WAREHOUSE,
    Allocation,
    Requested,
    ReservedLine,
    StockError,
    StockLevel,
    check_warehouse,
    counted_delta,
    plan_reservation,
    plan_shipment,
)
from kontor_catalog.store.products import PRODUCTS
from kontor_catalog.store.stock import StockChanged, StockRepository

Reason = Literal[
    "goods_receipt", "inventory_count", "return_restock", "write_off", "correction", "shipment"
]


class UnknownProduct(LookupError):
    def __init__(self, sku: str) -> None:
        super().__init__(f"no product with SKU {sku!r}")
        self.sku = sku


@dataclass(frozen=True)
class ReservationOutcome:
    status: Literal["reserved", "rejected", "duplicate"]
    allocations: tuple[Allocation, ...] = ()


async def _adjusted(
    tx: Transaction,
    repo: StockRepository,
    level: StockLevel,
    *,
    delta: int,
    reason: Reason,
    reference: str | None,
    note: str | None = None,
) -> None:
    tx.emit(
        StockAdjusted(
            sku=level.sku,
            warehouse=level.warehouse,
            delta=delta,
            on_hand=level.on_hand,
            reason=reason,
            available=await repo.available_total(level.sku),
            reference=reference,
            note=note,
        ),
        aggregate_id=level.sku,
    )


async def _require_product(tx: Transaction, sku: str) -> None:
    if await tx.db[PRODUCTS].find_one({"_id": sku}, {"_id": 1}, session=tx.session) is None:
        raise UnknownProduct(sku)


async def receive_goods(
    store: Store,
    *,
    sku: str,
    warehouse: str,
    quantity: int,
    reference: str | None = None,
    note: str | None = None,
) -> StockLevel:
    """Goods receipt (Wareneingang): ``quantity`` more pieces on hand in ``warehouse``."""
    check_warehouse(warehouse)
    if quantity <= 0:
        raise StockError("quantity", "must be positive")

    async def work(tx: Transaction) -> StockLevel:
        await _require_product(tx, sku)
        repo = StockRepository(tx)
        level = await repo.add_on_hand(sku, warehouse, quantity)
        await _adjusted(
            tx, repo, level, delta=quantity, reason="goods_receipt", reference=reference, note=note
        )
        return level

    return await store.transaction(work)


async def count_stock(
    store: Store,
    *,
    sku: str,
    warehouse: str,
    counted: int,
    reference: str | None = None,
    note: str | None = None,
) -> StockLevel:
    """Inventory count (Inventur): on hand becomes what was counted; the difference is booked."""
    check_warehouse(warehouse)

    async def work(tx: Transaction) -> StockLevel:
        await _require_product(tx, sku)
        repo = StockRepository(tx)
        delta = counted_delta(await repo.level(sku, warehouse), counted)
        level = await repo.add_on_hand(sku, warehouse, delta)
        await _adjusted(
            tx, repo, level, delta=delta, reason="inventory_count", reference=reference, note=note
        )
        return level

    return await store.transaction(work)


async def reserve_order(
    tx: Transaction, order_id: str, lines: Sequence[Requested]
) -> ReservationOutcome:
    """Reserve every line of an order or none; once per order id, whatever is redelivered."""
    repo = StockRepository(tx)
    if await repo.reservation(order_id) is not None:
        return ReservationOutcome("duplicate")
    plan = plan_reservation(lines, await repo.levels(line.sku for line in lines))
    now = utc_now()
    if not plan.ok:
        await repo.record_reservation(
            order_id,
            status="rejected",
            allocations=(),
            shortfalls=[
                {"sku": s.sku, "requested": s.requested, "available": s.available}
                for s in plan.shortfalls
            ],
            now=now,
        )
        tx.emit(
            StockReservationRejected(
                order_id=order_id,
                reasons=[
                    ReservationShortfall(sku=s.sku, requested=s.requested, available=s.available)
                    for s in plan.shortfalls
                ],
            ),
            aggregate_id=order_id,
        )
        return ReservationOutcome("rejected")
    for allocation in plan.allocations:
        await repo.reserve(allocation)
    await repo.record_reservation(
        order_id, status="reserved", allocations=plan.allocations, shortfalls=(), now=now
    )
    tx.emit(
        StockReserved(
            order_id=order_id,
            lines=[
                ReservationLine(sku=a.sku, quantity=a.quantity, warehouse=a.warehouse)
                for a in plan.allocations
            ],
        ),
        aggregate_id=order_id,
    )
    return ReservationOutcome("reserved", plan.allocations)


async def release_order(tx: Transaction, order_id: str, *, reason: str) -> bool:
    """Give an order's reservation back; False when there is nothing (left) to release."""
    repo = StockRepository(tx)
    reservation = await repo.reservation(order_id)
    if reservation is None or reservation["status"] != "reserved":
        return False
    allocations = [
        Allocation(line["sku"], line["warehouse"], line["quantity"] - line.get("shipped", 0))
        for line in reservation["lines"]
        if line["quantity"] > line.get("shipped", 0)
    ]
    if not allocations:  # all of it shipped: nothing held any more
        return False
    for allocation in allocations:
        await repo.release(allocation)
    await repo.mark_released(order_id, reason=reason, now=utc_now())
    tx.emit(
        StockReleased(
            order_id=order_id,
            lines=[
                ReservationLine(sku=a.sku, quantity=a.quantity, warehouse=a.warehouse)
                for a in allocations
            ],
            reason=reason,
        ),
        aggregate_id=order_id,
    )
    return True


# --- consumer handlers -------------------------------------------------------------


async def on_order_placed(event: OrderPlaced, tx: Transaction, env: Envelope) -> None:
    await reserve_order(
        tx, event.order_id, [Requested(line.sku, line.quantity) for line in event.lines]
    )


async def on_order_cancelled(event: OrderCancelled, tx: Transaction, env: Envelope) -> None:
    await release_order(tx, event.order_id, reason="order_cancelled")


async def on_order_rejected(event: OrderRejected, tx: Transaction, env: Envelope) -> None:
    # Rejected for another reason than stock (say, payment): give back what is held.
    await release_order(tx, event.order_id, reason="order_rejected")


async def on_order_shipped(event: OrderShipped, tx: Transaction, env: Envelope) -> None:
    """Shipped pieces leave the stock: taken from the order's reservation, once per shipment.

    Pieces shipped beyond the reservation (or of an order never reserved here) come out
    of what is available in the shipping warehouse; if that is not there either, the
    event is parked for a person to look at rather than driving stock negative.
    """
    repo = StockRepository(tx)
    if not await repo.record_shipment(event.shipment_id, event.order_id, utc_now()):
        return
    reservation = await repo.reservation(event.order_id)
    held = reservation is not None and reservation["status"] == "reserved"
    lines = [
        ReservedLine(line["sku"], line["warehouse"], line["quantity"], line.get("shipped", 0))
        for line in (reservation["lines"] if reservation is not None and held else [])
    ]
    for shipped in event.lines:
        taken, beyond = plan_shipment(lines, shipped.sku, shipped.quantity, event.warehouse)
        for index, pieces in taken:
            line = lines[index]
            level = await repo.ship_reserved(line.sku, line.warehouse, pieces)
            lines[index] = ReservedLine(
                line.sku, line.warehouse, line.quantity, line.shipped + pieces
            )
            await _adjusted(
                tx, repo, level, delta=-pieces, reason="shipment", reference=event.shipment_id
            )
        if beyond:
            warehouse = event.warehouse or DEFAULT_WAREHOUSE
            try:
                level = await repo.add_on_hand(shipped.sku, warehouse, -beyond)
            except StockChanged as exc:
                raise PermanentError(
                    f"shipment {event.shipment_id}: {beyond} x {shipped.sku} shipped from "
                    f"{warehouse} beyond reservation and stock"
                ) from exc
            await _adjusted(
                tx, repo, level, delta=-beyond, reason="shipment", reference=event.shipment_id
            )
    if reservation is not None and lines:
        await repo.set_reservation_lines(
            event.order_id,
            [
                {
                    "sku": line.sku,
                    "warehouse": line.warehouse,
                    "quantity": line.quantity,
                    "shipped": line.shipped,
                }
                for line in lines
            ],
        )


async def on_return_received(event: ReturnReceived, tx: Transaction, env: Envelope) -> None:
    """Put the returned pieces marked ``restock`` back on hand, where they arrived."""
    repo = StockRepository(tx)
    for line in event.lines:
        if line.disposition != "restock":
            continue
        warehouse = line.warehouse or DEFAULT_WAREHOUSE
        level = await repo.add_on_hand(line.sku, warehouse, line.quantity)
        await _adjusted(
            tx,
            repo,
            level,
            delta=line.quantity,
            reason="return_restock",
            reference=event.return_id,
        )
