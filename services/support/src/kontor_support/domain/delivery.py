"""An outgoing public reply waiting for its channel: queued, sent or failed.

A reply is stored on its ticket and, in the same unit of work, queued as a
:class:`Delivery`; the channel adapters take queued deliveries, send them and mark
the outcome. A failed attempt is retried after a growing pause until
:data:`MAX_ATTEMPTS` attempts have failed (or the failure is permanent: a refused
recipient); then the delivery stays ``failed`` and the agent sees it on the ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from kontor_servicekit.domain_errors import IllegalTransition

from kontor_support.domain.message import Attachment

__all__ = ["MAX_ATTEMPTS", "Delivery", "DeliveryStatus", "retry_pause"]

DeliveryStatus = Literal["queued", "sent", "failed"]

#: Attempts before a delivery is given up (the fifth failure is final).
MAX_ATTEMPTS = 5


def retry_pause(attempts: int) -> timedelta:
    """The pause after the ``attempts``-th failed attempt: 1, 4, 16, 64 minutes."""
    return timedelta(minutes=4 ** (attempts - 1))


@dataclass
class Delivery:
    id: str
    ticket_id: str
    ticket_message_id: str
    channel: str
    subject: str | None
    body_text: str
    created_at: datetime
    to_email: str | None = None
    to_name: str | None = None
    body_html: str | None = None
    message_id: str | None = None  # the pre-generated Message-ID of the mail
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    external_conversation_id: str | None = None  # the chat (or thread) to push it to
    status: DeliveryStatus = "queued"
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = None
    not_before: datetime | None = None  # a failed attempt's retry is not due before
    claim: str | None = None  # the sender that took it for an attempt
    claimed_until: datetime | None = None  # ... and until when (then another may)
    attachments: tuple[Attachment, ...] = ()  # a chat reply's file (pushed as "attachment")

    def take(self, claim: str, at: datetime, lease: timedelta) -> bool:
        """A sender takes the delivery for one attempt; False when it is not due (sent,
        failed, in its retry pause) or another sender holds it."""
        if self.status != "queued":
            return False
        if self.not_before is not None and self.not_before > at:
            return False
        if self.claimed_until is not None and self.claimed_until > at:
            return False
        self.claim, self.claimed_until = claim, at + lease
        return True

    def mark_sent(self, at: datetime) -> bool:
        """Sent now; False (no change) if it was marked sent already (a second sender)."""
        if self.status == "sent":
            return False
        if self.status == "failed":
            raise IllegalTransition(f"delivery {self.id}", "mark sent", "failed")
        self.status = "sent"
        self.attempts += 1
        self.sent_at = at
        self.not_before = None
        self.claim = self.claimed_until = None
        return True

    def mark_failed(self, error: str, at: datetime, *, permanent: bool = False) -> bool:
        """One attempt failed; retried later unless ``permanent`` or the attempts are used up."""
        if self.status != "queued":
            return False
        self.attempts += 1
        self.last_error = error[:1000]
        self.claim = self.claimed_until = None
        if permanent or self.attempts >= MAX_ATTEMPTS:
            self.status = "failed"
            self.not_before = None
        else:
            self.not_before = at + retry_pause(self.attempts)
        return True
