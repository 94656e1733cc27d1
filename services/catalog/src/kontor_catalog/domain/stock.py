"""Stock per warehouse and reservations of orders: the rules, without any I/O.

A stock level is the count of one article in one warehouse: ``on_hand`` pieces
physically there, ``reserved`` of them promised to orders not yet shipped, and
``available = on_hand - reserved``. None of the three may ever be negative.
An order is reserved in full or not at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Where the legacy ``stock`` of ``POST /products`` goes, and returns without a warehouse.
DEFAULT_WAREHOUSE = "main"

WAREHOUSE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,31}$")


class StockError(ValueError):
    """A stock movement that would break a rule (e.g. a count below what is reserved)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


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


def counted_delta(level: StockLevel, counted: int) -> int:
    """Change of on-hand stock an inventory count implies; refuses a count below reserved."""
    if counted < 0:
        raise StockError("counted", "must not be negative")
    if counted < level.reserved:
        raise StockError(
            "counted",
            f"{counted} counted but {level.reserved} reserved for open orders: "
            "release or move those reservations first",
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
