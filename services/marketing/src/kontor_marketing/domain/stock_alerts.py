"""Back in stock (issue 15): a person asks to hear when an article is available again.
Pure.

The request subscribes the person to the ``back_in_stock`` topic (double opt-in, as any
subscription: nothing is sent before the confirmation) and waits per (person, article).
A stock movement that leaves pieces available notifies every waiting request of the
article once; the mail is advertising on ``back_in_stock`` (consent checked when it
leaves), so an unconfirmed request never becomes a mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

STOCK_FLOW = "back_in_stock"
STOCK_TOPIC = "back_in_stock"


@dataclass
class StockAlert:
    email: str
    sku: str
    requested_at: datetime
    status: Literal["waiting", "notified"] = "waiting"
    notified_at: datetime | None = None

    @property
    def id(self) -> str:
        return f"{self.sku}|{self.email}"

    def notified(self, at: datetime) -> None:
        self.status, self.notified_at = "notified", at


def back_again(available: int | None, on_hand: int, delta: int) -> bool:
    """A movement after which pieces can be ordered again (available, else on hand)."""
    pieces = available if available is not None else on_hand
    return delta > 0 and pieces > 0
