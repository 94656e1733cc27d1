"""What the catalog's aggregates record when they change (see ``kontor_servicekit.aggregate``).

Frozen dataclasses; ``application/`` turns each into the contract event other
services subscribe to. A change that changes nothing records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the value types live with their rules; events only name them
    from kontor_catalog.domain.pricing import PricePoint
    from kontor_catalog.domain.stock import Allocation, Reason, Shortfall


@dataclass(frozen=True)
class ProductWasCreated:
    sku: str


@dataclass(frozen=True)
class ProductWasUpdated:
    sku: str
    changed_fields: tuple[str, ...]
    """Our field names, in the order of ``DESCRIPTIVE_FIELDS``."""


@dataclass(frozen=True)
class PriceWasChanged:
    sku: str
    old_net: Decimal
    old_gross: Decimal
    new: PricePoint


@dataclass(frozen=True)
class ProductWasDiscontinued:
    sku: str
    reason: str | None
    at: datetime


@dataclass(frozen=True)
class StockWasAdjusted:
    """On hand of one article in one warehouse moved by ``delta``."""

    sku: str
    warehouse: str
    delta: int
    on_hand: int
    """On hand in ``warehouse`` afterwards."""
    available: int
    """Available in all warehouses afterwards."""
    reason: Reason
    reference: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class StockWasReserved:
    order_id: str
    allocations: tuple[Allocation, ...]


@dataclass(frozen=True)
class ReservationWasRejected:
    order_id: str
    shortfalls: tuple[Shortfall, ...]


@dataclass(frozen=True)
class ReservationWasReleased:
    order_id: str
    allocations: tuple[Allocation, ...]
    """What was still held (not shipped) and is given back."""
    reason: str
