"""What the merchant's lists ask for: the filter of the order list and a page of results.

The queries answering them are in ``store/queries.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from kontor_servicekit.domain_errors import Invalid

T = TypeVar("T")


@dataclass(frozen=True)
class OrderFilter:
    """Orders with one of ``statuses`` (any if empty), placed in [placed_from,
    placed_before), of ``customer`` (an e-mail address or a customer id), with ``sku``."""

    statuses: tuple[str, ...] = ()
    placed_from: datetime | None = None
    placed_before: datetime | None = None
    customer: str | None = None
    sku: str | None = None

    def __post_init__(self) -> None:
        if (
            self.placed_from is not None
            and self.placed_before is not None
            and self.placed_before <= self.placed_from
        ):
            raise Invalid("to must be after from", field=("to",), location="query")

    @property
    def customer_is_email(self) -> bool:
        return self.customer is not None and "@" in self.customer


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T] = field(default_factory=list)
    total: int = 0
