"""A chat: a customer's live conversation, transcribed onto a ticket of channel chat.

The chat holds what the ticket does not: who opened it (name and address, optional)
and the live state both sides see: who is typing (fresh for :data:`TYPING_FRESH`) and
up to when each side has read the other's messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

__all__ = ["TYPING_FRESH", "Chat", "Side"]

Side = Literal["customer", "agent"]

#: How long "is typing" holds after the last keystroke signal.
TYPING_FRESH = timedelta(seconds=6)


@dataclass
class Chat:
    id: str
    created_at: datetime
    customer_email: str | None = None
    customer_name: str | None = None
    ticket_id: str | None = None
    customer_typing_at: datetime | None = None
    agent_typing_at: datetime | None = None
    customer_read_at: datetime | None = None
    agent_read_at: datetime | None = None
    language: str | None = None  # de or en: what the customer's browser prefers

    def typing(self, side: Side, at: datetime) -> bool:
        """``side`` is typing; False (nothing to store) within a second of the last."""
        last = self.customer_typing_at if side == "customer" else self.agent_typing_at
        if last is not None and at - last < timedelta(seconds=1):
            return False
        if side == "customer":
            self.customer_typing_at = at
        else:
            self.agent_typing_at = at
        return True

    def read(self, side: Side, at: datetime) -> bool:
        """``side`` has read everything up to ``at``; False if it had already."""
        last = self.customer_read_at if side == "customer" else self.agent_read_at
        if last is not None and last >= at:
            return False
        if side == "customer":
            self.customer_read_at = at
        else:
            self.agent_read_at = at
        return True

    def wrote(self, side: Side) -> None:
        """A message ends that side's typing."""
        if side == "customer":
            self.customer_typing_at = None
        else:
            self.agent_typing_at = None

    def is_typing(self, side: Side, now: datetime) -> bool:
        last = self.customer_typing_at if side == "customer" else self.agent_typing_at
        return last is not None and now - last < TYPING_FRESH
