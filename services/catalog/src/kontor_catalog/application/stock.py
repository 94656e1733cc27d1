"""Use cases of stock: goods receipt, inventory count, reservations, releases, returns,
and the replacements of complaints (reserved and booked out at once).

HTTP commands (receipts, counts) run in a unit of work of their own; the handlers of
the orders service's events run in the consumer's (inbox) unit of work. The stock and
reservation aggregates record what moved; the use cases announce it (StockAdjusted,
StockReserved, StockReservationRejected, StockReleased).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.catalog import (
    ReplacementStockBooked,
    ReplacementStockRejected,
    ReservationLine,
    ReservationShortfall,
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
    ReplacementRequested,
    ReturnReceived,
)
from kontor_servicekit.clock import Clock
from kontor_servicekit.uow import Transactor

from kontor_catalog.application.unit_of_work import CatalogUnitOfWork
from kontor_catalog.domain.errors import ParentHoldsNoStock, UnknownProduct
from kontor_catalog.domain.events import (
    ReservationWasRejected,
    ReservationWasReleased,
    StockWasAdjusted,
    StockWasReserved,
)
from kontor_catalog.domain.stock import (
    DEFAULT_WAREHOUSE,
    Allocation,
    ArticleStock,
    Requested,
    Reservation,
    StockSummary,
)


@dataclass(frozen=True)
class ReservationOutcome:
    status: Literal["reserved", "rejected", "duplicate"]
    allocations: tuple[Allocation, ...] = ()


async def receive_goods(
    transactor: Transactor[CatalogUnitOfWork],
    *,
    sku: str,
    warehouse: str,
    quantity: int,
    reference: str | None = None,
    note: str | None = None,
) -> StockSummary:
    """Goods receipt (Wareneingang): ``quantity`` more pieces on hand in ``warehouse``."""

    async def work(uow: CatalogUnitOfWork) -> StockSummary:
        stock = await _stock_of_product(uow, sku)
        stock.receive(warehouse, quantity, reference=reference, note=note)
        await save(uow, stock)
        return stock.summary()

    return await transactor.run(work)


async def count_stock(
    transactor: Transactor[CatalogUnitOfWork],
    *,
    sku: str,
    warehouse: str,
    counted: int,
    reference: str | None = None,
    note: str | None = None,
) -> StockSummary:
    """Inventory count (Inventur): on hand becomes what was counted; the difference is booked.

    A count below the pieces reserved is refused with the stock as ``current_state``.
    """

    async def work(uow: CatalogUnitOfWork) -> StockSummary:
        # a count of 0 may book out what a parent held before it had variants
        stock = await _stock_of_product(uow, sku, clearing=counted == 0)
        stock.count(warehouse, counted, reference=reference, note=note)
        await save(uow, stock)
        return stock.summary()

    return await transactor.run(work)


async def reserve_order(
    uow: CatalogUnitOfWork, order_id: str, lines: Sequence[Requested], *, now: datetime
) -> ReservationOutcome:
    """Reserve every line of an order or none; once per order id, whatever is redelivered."""
    if await uow.reservations.get(order_id) is not None:
        return ReservationOutcome("duplicate")
    stocks = await uow.stock.of(line.sku for line in lines)
    reservation = Reservation.place(order_id, lines, stocks, now)
    for stock in stocks.values():
        await uow.stock.save(stock)
    await uow.reservations.add(reservation)
    allocations = tuple(
        Allocation(line.sku, line.warehouse, line.quantity) for line in reservation.lines
    )
    publish_reservation(uow, reservation)
    return ReservationOutcome("reserved" if reservation.held else "rejected", allocations)


async def release_order(
    uow: CatalogUnitOfWork, order_id: str, *, reason: str, now: datetime
) -> None:
    """Give back what an order still holds (not what shipped); nothing held: nothing happens."""
    reservation = await uow.reservations.get(order_id)
    if reservation is None or not reservation.held:
        return
    stocks = await uow.stock.of(line.sku for line in reservation.lines)
    reservation.release(reason, now, stocks)
    if not reservation.recorded_events:
        return
    for stock in stocks.values():
        await uow.stock.save(stock)
    await uow.reservations.save(reservation)
    publish_reservation(uow, reservation)


def replacement_key(complaint_id: str) -> str:
    """The reservation of a complaint's replacement (an order's is its order id)."""
    return f"replacement:{complaint_id}"


async def ship_replacement(
    uow: CatalogUnitOfWork,
    *,
    complaint_id: str,
    order_id: str,
    lines: Sequence[Requested],
    now: datetime,
) -> ReservationOutcome:
    """A complaint's replacement is a shipment: reserve its pieces like an order's and
    book them out at once (StockAdjusted ``shipment``, reference = complaint id), or take
    nothing when they are not there. Answers ReplacementStockBooked or
    ReplacementStockRejected; once per complaint, whatever is redelivered."""
    key = replacement_key(complaint_id)
    if await uow.reservations.get(key) is not None:
        return ReservationOutcome("duplicate")
    stocks = await uow.stock.of(line.sku for line in lines)
    reservation = Reservation.place(key, lines, stocks, now)
    reservation.pull_events()  # answered below as a replacement, not as an order's
    answer: ReplacementStockBooked | ReplacementStockRejected
    if reservation.held:
        allocations = tuple(Allocation(x.sku, x.warehouse, x.quantity) for x in reservation.lines)
        reservation.ship_everything(stocks, reference=complaint_id)
        answer = ReplacementStockBooked(
            order_id=order_id, complaint_id=complaint_id, lines=_lines(allocations)
        )
    else:
        allocations = ()
        answer = ReplacementStockRejected(
            order_id=order_id,
            complaint_id=complaint_id,
            reasons=[
                ReservationShortfall(sku=s.sku, requested=s.requested, available=s.available)
                for s in reservation.shortfalls
            ],
        )
    for stock in stocks.values():
        await save(uow, stock)
    await uow.reservations.add(reservation)
    uow.emit(answer, aggregate_id=order_id)
    return ReservationOutcome("reserved" if reservation.held else "rejected", allocations)


# --- consumer handlers -------------------------------------------------------------


async def on_order_placed(
    event: OrderPlaced, uow: CatalogUnitOfWork, env: Envelope, *, clock: Clock
) -> None:
    await reserve_order(
        uow,
        event.order_id,
        [Requested(line.sku, line.quantity) for line in event.lines],
        now=clock(),
    )


async def on_order_cancelled(
    event: OrderCancelled, uow: CatalogUnitOfWork, env: Envelope, *, clock: Clock
) -> None:
    # a prepayment not received in time: the reservation expired (orders cancelled it)
    expired = event.reason == PREPAYMENT_NOT_RECEIVED and event.cancelled_by == "system"
    reason = "expired" if expired else "order_cancelled"
    await release_order(uow, event.order_id, reason=reason, now=clock())


async def on_order_rejected(
    event: OrderRejected, uow: CatalogUnitOfWork, env: Envelope, *, clock: Clock
) -> None:
    # Rejected for another reason than stock (say, payment): give back what is held.
    await release_order(uow, event.order_id, reason="order_rejected", now=clock())


async def on_order_shipped(
    event: OrderShipped, uow: CatalogUnitOfWork, env: Envelope, *, clock: Clock
) -> None:
    """Shipped pieces leave the stock: taken from the order's reservation, once per shipment.

    Pieces shipped beyond the reservation (or of an order never reserved here) come out
    of what is available in the shipping warehouse; if that is not there either, the
    event is refused (dead-lettered for a person to look at) rather than driving stock
    negative.
    """
    if not await uow.shipments.book(event.shipment_id, event.order_id, clock()):
        return
    reservation = await uow.reservations.get(event.order_id)
    stocks = await uow.stock.of(line.sku for line in event.lines)
    for shipped in event.lines:
        stock = stocks[shipped.sku]
        taken: list[Allocation] = []
        beyond = shipped.quantity
        if reservation is not None:
            taken, beyond = reservation.ship(shipped.sku, shipped.quantity, event.warehouse)
        for allocation in taken:
            stock.ship_reserved(
                allocation.warehouse, allocation.quantity, reference=event.shipment_id
            )
        if beyond:
            stock.ship_unreserved(
                event.warehouse or DEFAULT_WAREHOUSE, beyond, reference=event.shipment_id
            )
        publish_stock(uow, stock)
    for stock in stocks.values():
        await uow.stock.save(stock)
    if reservation is not None and reservation.held and reservation.lines:
        await uow.reservations.save(reservation)


async def on_replacement_requested(
    event: ReplacementRequested, uow: CatalogUnitOfWork, env: Envelope, *, clock: Clock
) -> None:
    await ship_replacement(
        uow,
        complaint_id=event.complaint_id,
        order_id=event.order_id,
        lines=[Requested(event.sku, event.quantity)],
        now=clock(),
    )


async def on_return_received(
    event: ReturnReceived, uow: CatalogUnitOfWork, env: Envelope, *, clock: Clock
) -> None:
    """Put the returned pieces marked ``restock`` back on hand, where they arrived."""
    restocked = [line for line in event.lines if line.disposition == "restock"]
    stocks = await uow.stock.of(line.sku for line in restocked)
    for line in restocked:
        stock = stocks[line.sku]
        stock.restock(line.warehouse or DEFAULT_WAREHOUSE, line.quantity, reference=event.return_id)
        publish_stock(uow, stock)
    for stock in stocks.values():
        await uow.stock.save(stock)


# --- announcing what the aggregates recorded --------------------------------------


async def save(uow: CatalogUnitOfWork, stock: ArticleStock) -> None:
    """Store the levels that moved and announce each movement."""
    await uow.stock.save(stock)
    publish_stock(uow, stock)


def publish_stock(uow: CatalogUnitOfWork, stock: ArticleStock) -> None:
    for recorded in stock.pull_events():
        if isinstance(recorded, StockWasAdjusted):
            uow.emit(
                StockAdjusted(
                    sku=recorded.sku,
                    warehouse=recorded.warehouse,
                    delta=recorded.delta,
                    on_hand=recorded.on_hand,
                    reason=recorded.reason,
                    available=recorded.available,
                    reference=recorded.reference,
                    note=recorded.note,
                ),
                aggregate_id=recorded.sku,
            )


def publish_reservation(uow: CatalogUnitOfWork, reservation: Reservation) -> None:
    for recorded in reservation.pull_events():
        if isinstance(recorded, StockWasReserved):
            event: StockReserved | StockReservationRejected | StockReleased = StockReserved(
                order_id=recorded.order_id, lines=_lines(recorded.allocations)
            )
        elif isinstance(recorded, ReservationWasRejected):
            event = StockReservationRejected(
                order_id=recorded.order_id,
                reasons=[
                    ReservationShortfall(sku=s.sku, requested=s.requested, available=s.available)
                    for s in recorded.shortfalls
                ],
            )
        elif isinstance(recorded, ReservationWasReleased):
            event = StockReleased(
                order_id=recorded.order_id,
                lines=_lines(recorded.allocations),
                reason=recorded.reason,
            )
        else:
            continue
        uow.emit(event, aggregate_id=reservation.order_id)


def _lines(allocations: Sequence[Allocation]) -> list[ReservationLine]:
    return [
        ReservationLine(sku=a.sku, quantity=a.quantity, warehouse=a.warehouse) for a in allocations
    ]


async def _stock_of_product(
    uow: CatalogUnitOfWork, sku: str, *, clearing: bool = False
) -> ArticleStock:
    """The stock of an article that can be on a shelf: a product without variants
    (``clearing``: or a parent whose stock is being booked out)."""
    if not await uow.products.exists(sku):
        raise UnknownProduct(sku)
    variants = await uow.products.variants_of(sku)
    if variants and not clearing:
        raise ParentHoldsNoStock(sku, variants)
    return (await uow.stock.of([sku]))[sku]
