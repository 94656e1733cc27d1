"""What the mail relay tells back about marketing's mails: bounces and complaints. Pure.

Feedback arrives as mail to the bounce address (ADR 0055):

- a **delivery status notification** (RFC 3464: ``multipart/report;
  report-type=delivery-status``) from a relay that could not deliver. Per recipient,
  ``Action: failed`` with a ``5.x.x`` status is a **hard bounce** (the mailbox does not
  exist, the domain takes no mail); ``4.x.x`` or ``Action: delayed`` is a **soft bounce**
  (a full mailbox, a greylisting relay) that does not suppress;
- a **complaint** (ARF, RFC 5965: ``multipart/report; report-type=feedback-report``)
  from a mailbox provider's feedback loop when the person pressed "this is spam".

Every marketing mail leaves with its id in the ``X-Kontor-Mail`` header and in the
envelope sender (VERP: ``bounces+<id>@shop.example``), so a report names the mail it is
about even when the relay rewrote the recipient's address.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from email import message_from_bytes
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32
from email.utils import parseaddr
from typing import Literal

from kontor_marketing.domain.mail import Mail

FeedbackKind = Literal["hard_bounce", "soft_bounce", "complaint"]

MAIL_ID_HEADER = "X-Kontor-Mail"


@dataclass(frozen=True)
class Feedback:
    kind: FeedbackKind
    recipient: str | None
    """The address the report names (``Final-Recipient``, ``Original-Rcpt-To``)."""
    status: str
    """The DSN status (``5.1.1``) or the complaint's feedback type (``abuse``)."""
    mail_id: str | None = None


def tagged(mail: Mail, mail_id: str) -> Mail:
    """``mail`` carrying its queue id, for the reports that come back about it."""
    return replace(mail, headers=(*mail.headers, (MAIL_ID_HEADER, mail_id)))


def mail_id_of(mail: Mail) -> str | None:
    return next((value for name, value in mail.headers if name == MAIL_ID_HEADER), None)


def verp_address(bounce_address: str, mail_id: str) -> str:
    """``bounces@shop.example`` and a mail id -> ``bounces+<id>@shop.example``."""
    local, _, domain = bounce_address.rpartition("@")
    return f"{local}+{mail_id}@{domain}"


def verp_mail_id(address: str, bounce_address: str) -> str | None:
    """The mail id a VERP address of ``bounce_address`` carries, else None."""
    local, _, domain = address.strip().lower().rpartition("@")
    base_local, _, base_domain = bounce_address.strip().lower().rpartition("@")
    if domain != base_domain or not local.startswith(base_local + "+"):
        return None
    return local[len(base_local) + 1 :] or None


def is_feedback_address(address: str, bounce_address: str) -> bool:
    return (
        address.strip().lower() == bounce_address.strip().lower()
        or verp_mail_id(address, bounce_address) is not None
    )


def read_feedback(data: bytes) -> list[Feedback]:
    """The bounces and complaints a report mail carries; [] for anything else (an
    auto-reply, a human's answer): it neither suppresses nor is sent back."""
    message = message_from_bytes(data, policy=compat32)
    if message.get_content_type() != "multipart/report":
        return []
    report_type = str(message.get_param("report-type") or "").lower()
    parts = [p for p in message.walk() if isinstance(p, Message)]
    mail_id = _original_mail_id(parts)
    if report_type == "delivery-status":
        return [
            replace(feedback, mail_id=mail_id)
            for part in parts
            if part.get_content_type() == "message/delivery-status"
            for feedback in _bounces(part)
        ]
    if report_type == "feedback-report":
        for part in parts:
            if part.get_content_type() == "message/feedback-report":
                return [_complaint(_fields(part), mail_id)]
    return []


def _bounces(part: Message) -> list[Feedback]:
    blocks = part.get_payload()
    found = []
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, Message):
            continue
        action = (block.get("Action") or "").strip().lower()
        status = (block.get("Status") or "").strip()
        if action not in ("failed", "delayed"):
            continue  # delivered, relayed, expanded: nothing to hold against the address
        recipient = _address(block.get("Final-Recipient") or block.get("Original-Recipient"))
        hard = action == "failed" and status.startswith("5")
        found.append(Feedback("hard_bounce" if hard else "soft_bounce", recipient, status))
    return found


def _complaint(fields: Message, mail_id: str | None) -> Feedback:
    feedback_type = (fields.get("Feedback-Type") or "abuse").strip().lower()
    recipient = _address(fields.get("Original-Rcpt-To"))
    return Feedback("complaint", recipient, feedback_type, mail_id)


def _fields(part: Message) -> Message:
    """A report part's fields: parsed as a message by the library, or as text."""
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        first = payload[0]
        if isinstance(first, Message):
            return first
    text = payload if isinstance(payload, str) else ""
    return HeaderParser(policy=compat32).parsestr(text)


def _original_mail_id(parts: list[Message]) -> str | None:
    """The ``X-Kontor-Mail`` of the returned original (``message/rfc822`` or
    ``text/rfc822-headers``)."""
    for part in parts:
        kind = part.get_content_type()
        if kind == "message/rfc822":
            original = _fields(part)
        elif kind == "text/rfc822-headers":
            original = HeaderParser(policy=compat32).parsestr(str(part.get_payload(decode=False)))
        else:
            continue
        value = original.get(MAIL_ID_HEADER)
        if value:
            return str(value).strip()
    return None


def _address(field: str | None) -> str | None:
    """``rfc822; anna@example.de`` -> ``anna@example.de``."""
    if not field:
        return None
    value = field.split(";", 1)[1] if ";" in field else field
    address = parseaddr(value.strip())[1].strip().lower()
    return address or None


@dataclass(frozen=True)
class Suppression:
    """An address no marketing mail goes to any more: it bounced hard or complained.
    Lifted only by hand (the person fixed their mailbox and asks again)."""

    email: str
    reason: Literal["hard_bounce", "complaint"]
    at: datetime
    status: str
    mail_id: str | None = None


def suppression_from(
    feedback: Feedback, email: str, now: datetime, mail_id: str | None = None
) -> Suppression | None:
    """What ``feedback`` about the mail ``mail_id`` to ``email`` holds against it."""
    if feedback.kind == "soft_bounce":
        return None
    return Suppression(email, feedback.kind, now, feedback.status, mail_id or feedback.mail_id)
