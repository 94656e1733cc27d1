"""The seam between the channel adapters and the ticket core: one message in, one ticket.

Every channel (e-mail over SMTP or IMAP, chat, phone and social logging, a web form)
turns what it received into an :class:`InboundMessage` and hands it to :func:`receive`.
The adapters parse and sanitise (MIME, HTML, auto-reply detection); the core decides
which ticket the message belongs to, who the customer is, what it links to, and keeps it.

``receive`` is idempotent: a message whose ``message_id`` (mail) or, per channel,
``external_id`` is known answers ``duplicate=True`` and the ticket it landed on, and
changes nothing. Attachments go to the blob store before the unit of work that
registers them (GridFS is not transactional) and are deleted again if it fails; a
caller that may receive attachments passes ``blobs`` (``SupportContext.blobs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from kontor_servicekit.blobs import BlobWriter
from kontor_servicekit.clock import Clock
from kontor_servicekit.domain_errors import Unavailable
from kontor_servicekit.uow import Transactor

from kontor_support.application.unit_of_work import SupportUnitOfWork

__all__ = ["InboundAttachment", "InboundMessage", "Received", "receive"]

Channel = Literal["email", "chat", "phone", "social", "web"]


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class InboundMessage:
    channel: Channel
    received_at: datetime
    body_text: str
    direction: Literal["in", "out"] = "in"  # phone/social can log outgoing contacts
    from_email: str | None = None
    from_name: str | None = None
    from_phone: str | None = None
    subject: str | None = None
    body_html: str | None = None  # already sanitised by channels
    message_id: str | None = None  # RFC 5322 Message-ID (dedupe key for mail)
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    external_conversation_id: str | None = None  # chat id, social thread id, call id
    external_id: str | None = None  # the channel's id of this one message
    duration_s: int | None = None  # phone
    attachments: tuple[InboundAttachment, ...] = ()
    automated: bool = False  # auto-reply/bounce: kept, never answered


@dataclass(frozen=True)
class Received:
    ticket_id: str
    message_id: str  # the id of the stored ticket message (not the mail's Message-ID)
    created_ticket: bool
    duplicate: bool


async def receive(
    transactor: Transactor[SupportUnitOfWork],
    message: InboundMessage,
    *,
    clock: Clock,
    blobs: BlobWriter | None = None,
) -> Received:
    """Put ``message`` on its ticket (found by threading, subject reference or
    conversation, else a new one) and answer where it landed."""
    # WIP (support-core): the ticket model lands in the next commits of this branch
    raise Unavailable("tickets are not built yet", retry_after_s=60)
