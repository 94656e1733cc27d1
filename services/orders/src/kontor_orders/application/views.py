"""What the merchant's lists ask for: the filter of the order list and a page of results.

The queries answering them are in ``store/queries.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Generic, TypeVar

from kontor_servicekit.clock import BERLIN
from kontor_servicekit.domain_errors import Invalid

from kontor_orders.domain.parties import email_key, order_number_key

T = TypeVar("T")


@dataclass(frozen=True)
class OrderFilter:
    """Orders with one of ``statuses`` (any if empty), placed in [placed_from,
    placed_before), of ``customer`` (an e-mail address, matched case-insensitively, or a
    customer id), with ``sku``, with the order ``number``."""

    statuses: tuple[str, ...] = ()
    placed_from: datetime | None = None
    placed_before: datetime | None = None
    customer: str | None = None
    sku: str | None = None
    number: str | None = None

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

    @property
    def customer_key(self) -> str | None:
        """What ``customer`` is compared as: an e-mail's :func:`email_key`, or the id."""
        if self.customer is None or not self.customer_is_email:
            return self.customer
        return email_key(self.customer)

    @property
    def number_key(self) -> str | None:
        return None if self.number is None else order_number_key(self.number)


def day_start(moment: datetime | date) -> datetime:
    """A moment as given, or a plain date as the start of that day in Berlin."""
    if isinstance(moment, datetime):
        return moment
    return datetime.combine(moment, time(0), tzinfo=BERLIN).astimezone(UTC)


def day_end(moment: datetime | date) -> datetime:
    """A moment as given (exclusive), or a plain date as the end of that day in Berlin:
    ``to=2026-12-01`` includes the whole 1 December, German time."""
    if isinstance(moment, datetime):
        return moment
    return datetime.combine(moment + timedelta(days=1), time(0), tzinfo=BERLIN).astimezone(UTC)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T] = field(default_factory=list)
    total: int = 0
