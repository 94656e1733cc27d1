"""What support's queries answer: plain read dataclasses the routes map to JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from kontor_support.domain.message import TicketMessage
from kontor_support.domain.rating import Rating
from kontor_support.domain.ticket import Ticket

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int


@dataclass(frozen=True)
class TicketFilter:
    customer: str | None = None
    status: str | None = None
    channel: str | None = None
    order_number: str | None = None


@dataclass(frozen=True)
class TicketView:
    """A ticket with its messages and its customer's context, for one screen."""

    ticket: Ticket
    messages: list[TicketMessage]
    customer: dict[str, Any] | None
    orders: list[dict[str, Any]]
    rating: Rating | None = None


@dataclass(frozen=True)
class CustomerView:
    email: str
    customer: dict[str, Any] | None
    orders: list[dict[str, Any]]
    tickets: list[Ticket]
