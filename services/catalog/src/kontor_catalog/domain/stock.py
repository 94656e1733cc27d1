"""Stock per warehouse and reservations of orders: the rules, without any I/O.

A stock level is the count of one article in one warehouse: ``on_hand`` pieces
physically there, ``reserved`` of them promised to orders not yet shipped, and
``available = on_hand - reserved``. None of the three may ever be negative.
An order is reserved in full or not at all.

Two aggregates: :class:`ArticleStock` (every level of one SKU; records
:class:`StockWasAdjusted` for each on-hand movement) and :class:`Reservation` (what one
order holds; records that it was reserved, rejected or released).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from kontor_contracts.bounds import MAX_STOCK
from kontor_servicekit.aggregate import RecordsEvents
from kontor_servicekit.domain_errors import Conflict, Invalid

from kontor_catalog.domain.events import (
    ReservationWasRejected,
    ReservationWasReleased,
    StockWasAdjusted,
    StockWasReserved,
)

#: Where the legacy ``stock`` of ``POST /products`` goes, and returns without a warehouse.
DEFAULT_WAREHOUSE = "main"

WAREHOUSE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,31}$")

Reason = Literal[
    "goods_receipt", "inventory_count", "return_restock", "write_off", "correction", "shipment"
]


class StockError(Invalid, ValueError):
    """A stock movement with input that breaks a rule (422 at ``field``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=(field,))


class CountBelowReserved(Conflict):
    """An inventory count below the pieces reserved for open orders (409)."""


class BeyondStock(Conflict):
    """Pieces would leave a warehouse that does not hold them: stock never goes negative."""


@dataclass(frozen=True)
class StockLevel:
    sku: str
    warehouse: str
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class Requested:
    """One order line asking for ``quantity`` pieces of ``sku``."""

    sku: str
    quantity: int


@dataclass(frozen=True)
class Allocation:
    """``quantity`` pieces of ``sku`` taken from ``warehouse``."""

    sku: str
    warehouse: str
    quantity: int


@dataclass(frozen=True)
class Shortfall:
    sku: str
    requested: int
    available: int


@dataclass(frozen=True)
class ReservationPlan:
    """Either allocations for every line (``ok``) or the shortfalls that prevent it."""

    allocations: tuple[Allocation, ...] = ()
    shortfalls: tuple[Shortfall, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.shortfalls


def _warehouse_order(level: StockLevel) -> tuple[int, int, str]:
    # The default warehouse first, then the fullest: fewer parcels per order.
    return (0 if level.warehouse == DEFAULT_WAREHOUSE else 1, -level.available, level.warehouse)


def plan_reservation(
    requested: Sequence[Requested], levels: Iterable[StockLevel]
) -> ReservationPlan:
    """All lines or none: allocate each SKU's total from its warehouses.

    Lines of the same SKU are added up first (an order may list a SKU twice).
    """
    if not requested:
        raise StockError("lines", "an order to reserve has at least one line")
    totals: dict[str, int] = {}
    for line in requested:
        if line.quantity <= 0:
            raise StockError("quantity", "must be positive")
        totals[line.sku] = totals.get(line.sku, 0) + line.quantity
    by_sku: dict[str, list[StockLevel]] = {}
    for level in levels:
        by_sku.setdefault(level.sku, []).append(level)
    allocations: list[Allocation] = []
    shortfalls: list[Shortfall] = []
    for sku, wanted in totals.items():
        candidates = sorted(by_sku.get(sku, []), key=_warehouse_order)
        available = sum(max(level.available, 0) for level in candidates)
        if available < wanted:
            shortfalls.append(Shortfall(sku=sku, requested=wanted, available=available))
            continue
        missing = wanted
        for level in candidates:
            take = min(missing, level.available)
            if take > 0:
                allocations.append(Allocation(sku, level.warehouse, take))
                missing -= take
            if missing == 0:
                break
    if shortfalls:
        return ReservationPlan(shortfalls=tuple(shortfalls))
    return ReservationPlan(allocations=tuple(allocations))


def counted_delta(
    level: StockLevel, counted: int, *, current_state: Mapping[str, Any] | None = None
) -> int:
    """Change of on-hand stock an inventory count implies; refuses a count below reserved.

    ``current_state`` goes with the refusal (the 409's ``current_state``).
    """
    if counted < 0:
        raise StockError("counted", "must not be negative")
    if counted < level.reserved:
        raise CountBelowReserved(
            f"{counted} counted but {level.reserved} reserved for open orders: "
            "release or move those reservations first",
            details=None if current_state is None else {"current_state": dict(current_state)},
        )
    return counted - level.on_hand


def check_warehouse(warehouse: str) -> str:
    if not WAREHOUSE_PATTERN.match(warehouse):
        raise StockError("warehouse", "lower-case letters, digits, _ and - only, at most 32")
    return warehouse


@dataclass(frozen=True)
class ReservedLine:
    """One allocation of a reservation and how much of it has shipped."""

    sku: str
    warehouse: str
    quantity: int
    shipped: int = 0

    @property
    def open(self) -> int:
        return self.quantity - self.shipped


def plan_shipment(
    lines: Sequence[ReservedLine], sku: str, quantity: int, warehouse: str | None = None
) -> tuple[list[tuple[int, int]], int]:
    """Which reserved lines a shipment of ``quantity`` x ``sku`` consumes.

    Returns (index into ``lines``, pieces) pairs and the pieces not covered by the
    reservation (shipped beyond it). Lines of the shipping warehouse go first.
    """
    order = sorted(
        (i for i, line in enumerate(lines) if line.sku == sku and line.open > 0),
        key=lambda i: (lines[i].warehouse != warehouse, i),
    )
    taken: list[tuple[int, int]] = []
    missing = quantity
    for index in order:
        take = min(missing, lines[index].open)
        taken.append((index, take))
        missing -= take
        if missing == 0:
            break
    return taken, missing


@dataclass(frozen=True)
class StockSummary:
    """The stock of one article as it is shown: totals and each warehouse (by id)."""

    sku: str
    levels: tuple[StockLevel, ...]

    @property
    def on_hand(self) -> int:
        return sum(level.on_hand for level in self.levels)

    @property
    def reserved(self) -> int:
        return sum(level.reserved for level in self.levels)

    @property
    def available(self) -> int:
        return sum(level.available for level in self.levels)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "on_hand": self.on_hand,
            "reserved": self.reserved,
            "available": self.available,
            "warehouses": [
                {
                    "warehouse": level.warehouse,
                    "on_hand": level.on_hand,
                    "reserved": level.reserved,
                    "available": level.available,
                }
                for level in self.levels
            ],
        }


@dataclass
class LevelMove:
    """How one level moved since it was loaded (the repository writes it as guarded deltas)."""

    on_hand: int = 0
    reserved: int = 0


@dataclass
class ArticleStock(RecordsEvents):
    """Every stock level of one SKU; none of them ever goes negative.

    Each on-hand movement records :class:`StockWasAdjusted` with what is left in the
    warehouse and available in all of them; holding and releasing pieces for orders
    records nothing here (the :class:`Reservation` does).
    """

    sku: str
    levels: dict[str, StockLevel] = field(default_factory=dict)
    """By warehouse."""
    moves: dict[str, LevelMove] = field(default_factory=dict)
    """Levels changed since loading, by warehouse (touched levels with no change too)."""

    def level(self, warehouse: str) -> StockLevel:
        return self.levels.get(warehouse) or StockLevel(self.sku, warehouse, 0, 0)

    @property
    def available(self) -> int:
        return sum(level.available for level in self.levels.values())

    def summary(self) -> StockSummary:
        return StockSummary(self.sku, tuple(self.levels[w] for w in sorted(self.levels)))

    def _move(self, warehouse: str, *, on_hand: int = 0, reserved: int = 0) -> StockLevel:
        current = self.level(warehouse)
        moved = StockLevel(
            self.sku, warehouse, current.on_hand + on_hand, current.reserved + reserved
        )
        if moved.on_hand < 0 or moved.reserved < 0 or moved.available < 0:
            raise BeyondStock(f"{self.sku} in {warehouse}: stock would go negative")
        if moved.on_hand > MAX_STOCK:
            raise StockError(
                "quantity", f"at most {MAX_STOCK:,} pieces on hand in one warehouse (ADR 0014)"
            )
        self.levels[warehouse] = moved
        pending = self.moves.setdefault(warehouse, LevelMove())
        pending.on_hand += on_hand
        pending.reserved += reserved
        return moved

    def _adjust(
        self,
        warehouse: str,
        delta: int,
        reason: Reason,
        *,
        reference: str | None,
        note: str | None = None,
        reserved: int = 0,
    ) -> None:
        level = self._move(warehouse, on_hand=delta, reserved=reserved)
        self.record(
            StockWasAdjusted(
                sku=self.sku,
                warehouse=warehouse,
                delta=delta,
                on_hand=level.on_hand,
                available=self.available,
                reason=reason,
                reference=reference,
                note=note,
            )
        )

    def open_with(self, quantity: int) -> None:
        """The legacy ``stock`` of a new product: on hand in the default warehouse.

        Announced by ProductCreated (its ``stock``), so it records nothing here.
        """
        if quantity < 0:
            raise StockError("stock", "must not be negative")
        self._move(DEFAULT_WAREHOUSE, on_hand=quantity)

    def receive(
        self, warehouse: str, quantity: int, *, reference: str | None, note: str | None
    ) -> None:
        """Goods receipt (Wareneingang): ``quantity`` more pieces on hand."""
        check_warehouse(warehouse)
        if quantity <= 0:
            raise StockError("quantity", "must be positive")
        self._adjust(warehouse, quantity, "goods_receipt", reference=reference, note=note)

    def count(
        self, warehouse: str, counted: int, *, reference: str | None, note: str | None
    ) -> None:
        """Inventory count (Inventur): on hand becomes ``counted``; the difference is booked.

        A count below what is reserved is refused with the current stock.
        """
        check_warehouse(warehouse)
        delta = counted_delta(
            self.level(warehouse), counted, current_state=self.summary().as_dict()
        )
        self._adjust(warehouse, delta, "inventory_count", reference=reference, note=note)

    def restock(self, warehouse: str, quantity: int, *, reference: str | None) -> None:
        """Returned pieces back on hand."""
        self._adjust(warehouse, quantity, "return_restock", reference=reference)

    def hold(self, warehouse: str, quantity: int) -> None:
        """Reserve ``quantity`` available pieces for an order."""
        self._move(warehouse, reserved=quantity)

    def unhold(self, warehouse: str, quantity: int) -> None:
        """Give reserved pieces back to what is available."""
        self._move(warehouse, reserved=-quantity)

    def ship_reserved(self, warehouse: str, quantity: int, *, reference: str) -> None:
        """Reserved pieces leave the warehouse: on hand and reserved both go down."""
        self._adjust(warehouse, -quantity, "shipment", reference=reference, reserved=-quantity)

    def ship_unreserved(self, warehouse: str, quantity: int, *, reference: str) -> None:
        """Pieces shipped beyond any reservation leave what is available, never below zero."""
        if self.level(warehouse).available < quantity:
            raise BeyondStock(
                f"shipment {reference}: {quantity} x {self.sku} shipped from "
                f"{warehouse} beyond reservation and stock"
            )
        self._adjust(warehouse, -quantity, "shipment", reference=reference)


ReservationStatus = Literal["reserved", "rejected", "released"]


@dataclass
class Reservation(RecordsEvents):
    """What one order holds: every line reserved, or (rejected) nothing; once per order."""

    order_id: str
    status: ReservationStatus
    lines: list[ReservedLine]
    shortfalls: tuple[Shortfall, ...]
    created_at: datetime
    released_at: datetime | None = None
    release_reason: str | None = None

    @classmethod
    def place(
        cls,
        order_id: str,
        requested: Sequence[Requested],
        stocks: Mapping[str, ArticleStock],
        now: datetime,
    ) -> Reservation:
        """Reserve every line from ``stocks`` (each requested SKU's), or none of them."""
        plan = plan_reservation(
            requested, [level for stock in stocks.values() for level in stock.levels.values()]
        )
        if not plan.ok:
            rejected = cls(order_id, "rejected", [], plan.shortfalls, now)
            rejected.record(ReservationWasRejected(order_id, plan.shortfalls))
            return rejected
        for allocation in plan.allocations:
            stocks[allocation.sku].hold(allocation.warehouse, allocation.quantity)
        reserved = cls(
            order_id,
            "reserved",
            [ReservedLine(a.sku, a.warehouse, a.quantity) for a in plan.allocations],
            (),
            now,
        )
        reserved.record(StockWasReserved(order_id, plan.allocations))
        return reserved

    @property
    def held(self) -> bool:
        return self.status == "reserved"

    def release(self, reason: str, now: datetime, stocks: Mapping[str, ArticleStock]) -> None:
        """Give back what is still held (not what shipped); nothing held: nothing happens."""
        if not self.held:
            return
        still_held = tuple(
            Allocation(line.sku, line.warehouse, line.open) for line in self.lines if line.open > 0
        )
        if not still_held:  # all of it shipped: nothing held any more
            return
        for allocation in still_held:
            stocks[allocation.sku].unhold(allocation.warehouse, allocation.quantity)
        self.status = "released"
        self.released_at = now
        self.release_reason = reason
        self.record(ReservationWasReleased(self.order_id, still_held, reason))

    def ship_everything(self, stocks: Mapping[str, ArticleStock], *, reference: str) -> None:
        """Book every held piece out of its warehouse at once (a complaint's replacement
        ships as soon as it is reserved): on hand and reserved go down together."""
        if not self.held:
            return
        for index, line in enumerate(self.lines):
            if line.open > 0:
                stocks[line.sku].ship_reserved(line.warehouse, line.open, reference=reference)
                self.lines[index] = ReservedLine(
                    line.sku, line.warehouse, line.quantity, line.quantity
                )

    def ship(self, sku: str, quantity: int, warehouse: str | None) -> tuple[list[Allocation], int]:
        """Mark ``quantity`` x ``sku`` shipped from the held lines (the shipping warehouse's
        first): the pieces taken per warehouse, and those beyond the reservation."""
        if not self.held:
            return [], quantity
        taken, beyond = plan_shipment(self.lines, sku, quantity, warehouse)
        shipped = []
        for index, pieces in taken:
            line = self.lines[index]
            self.lines[index] = ReservedLine(
                line.sku, line.warehouse, line.quantity, line.shipped + pieces
            )
            shipped.append(Allocation(line.sku, line.warehouse, pieces))
        return shipped, beyond
