"""One message on a ticket: a customer's mail, chat line, call, an agent's reply or note."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

__all__ = ["Attachment", "TicketMessage"]


@dataclass(frozen=True)
class Attachment:
    blob_id: str
    filename: str
    content_type: str
    size: int


@dataclass
class TicketMessage:
    id: str
    ticket_id: str
    direction: Literal["in", "out"]
    channel: str
    body_text: str
    at: datetime
    internal: bool = False
    author: str | None = None  # the agent's name for ours, the customer's address else
    from_email: str | None = None
    from_name: str | None = None
    from_phone: str | None = None
    subject: str | None = None
    body_html: str | None = None
    mail_id: str | None = None  # the RFC 5322 Message-ID
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    external_id: str | None = None
    external_conversation_id: str | None = None
    duration_s: int | None = None
    attachments: tuple[Attachment, ...] = ()
    automated: bool = False
    delivery_id: str | None = None  # a public reply's queued delivery
