"""Phone calls and social-media messages, logged by an agent (API) or by the telephony
or social tool itself (signed webhook), onto the ticket they belong to.

A contact goes through :func:`~kontor_support.application.inbound.receive`: threaded
by its conversation id (a call id, a social thread) where it has one, else onto the
customer's open ticket of the same channel, else a new ticket. The contact's own id
(``external_id``) makes a repeated report (a webhook retried) land once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from kontor_servicekit.clock import Clock
from kontor_servicekit.domain_errors import Invalid
from kontor_servicekit.uow import Transactor

from kontor_support.application.inbound import InboundMessage, Received, receive
from kontor_support.application.unit_of_work import SupportUnitOfWork
from kontor_support.channels.signing import BadSignature, verify_webhook

__all__ = ["Contact", "log_contact", "webhook_body", "webhook_refusal"]


@dataclass(frozen=True)
class Contact:
    channel: Literal["phone", "social"]
    direction: Literal["in", "out"]
    at: datetime
    summary: str
    duration_s: int | None = None
    external_id: str | None = None
    conversation_id: str | None = None
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    subject: str | None = None
    network: str | None = None  # social: the network it came from (instagram, ...)


def _inbound(contact: Contact) -> InboundMessage:
    if contact.at.tzinfo is None:
        raise Invalid("a time with its offset is required", field=("at",))
    if contact.email is None and contact.phone is None and contact.conversation_id is None:
        raise Invalid("say who it was (email or phone) or which conversation", field=("customer",))
    prefix = f"[{contact.network}] " if contact.network else ""
    return InboundMessage(
        channel=contact.channel,
        direction=contact.direction,
        received_at=contact.at,
        body_text=prefix + contact.summary,
        from_email=contact.email,
        from_name=contact.name,
        from_phone=contact.phone,
        subject=contact.subject,
        external_conversation_id=contact.conversation_id,
        external_id=contact.external_id,
        duration_s=contact.duration_s,
    )


async def log_contact(
    transactor: Transactor[SupportUnitOfWork], contact: Contact, *, clock: Clock
) -> Received:
    """Put ``contact`` on its ticket (see the module's docstring)."""
    return await receive(transactor, _inbound(contact), clock=clock)


def webhook_refusal(
    secret: bytes | None, raw: bytes, signature: str | None, *, now: datetime
) -> str | None:
    """Why the webhook request ``raw`` is refused (``X-Kontor-Signature``), or None."""
    if secret is None:
        return "no contact webhook secret is configured"
    try:
        verify_webhook(secret, raw, signature, now=now)
    except BadSignature as exc:
        return str(exc)
    return None


def webhook_body(raw: bytes) -> Any:
    """The signed body as JSON (the API's model checks it)."""
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise Invalid("the body is not JSON", field=()) from exc
