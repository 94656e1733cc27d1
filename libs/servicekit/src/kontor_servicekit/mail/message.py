"""Outgoing mail as data, and the RFC 5322 message built from it. Pure: no I/O.

A service says what to send (:class:`OutgoingMail`); :func:`build_message` turns it
into an :class:`email.message.EmailMessage` with everything a receiving system and a
mail client rely on: ``Date`` (tz-aware), a ``Message-ID`` of the sending domain,
``In-Reply-To`` and ``References`` for threading (so the answer lands on its ticket),
``Auto-Submitted`` for mail no person wrote (RFC 3834, so auto-responders stay quiet),
and for bulk mail ``List-Unsubscribe`` with ``List-Unsubscribe-Post:
List-Unsubscribe=One-Click`` (RFC 8058: the one-click link must be ``https``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr

__all__ = [
    "MailAttachment",
    "OutgoingMail",
    "build_message",
    "new_message_id",
]

_FORBIDDEN_IN_HEADERS = ("\r", "\n", "\0")


@dataclass(frozen=True)
class MailAttachment:
    """A file sent with a mail."""

    filename: str
    content_type: str
    content: bytes

    def __post_init__(self) -> None:
        _check_header_value("attachment filename", self.filename)
        main, sep, sub = self.content_type.partition("/")
        if not sep or not main or not sub:
            raise ValueError(f"content_type {self.content_type!r} is not type/subtype")


@dataclass(frozen=True)
class OutgoingMail:
    """One message to send.

    ``sender``: the From address (``Name <addr>`` or ``addr``); empty: the sender's
    configured ``mail_from``. ``message_id``: given when the caller stored it first (a
    ticket remembers the Message-IDs it sent, to thread the answer); empty: one is made.
    ``list_unsubscribe``: the https URL of a one-click unsubscribe (bulk mail only),
    ``list_unsubscribe_mailto``: an optional ``mailto:`` alternative.
    ``return_path``: the SMTP envelope sender (``MAIL FROM``), where delivery status
    notifications (bounces) go; empty: the From address.
    """

    to: Sequence[str]
    subject: str
    text: str
    html: str | None = None
    sender: str = ""
    reply_to: str | None = None
    cc: Sequence[str] = ()
    message_id: str = ""
    in_reply_to: str | None = None
    references: Sequence[str] = ()
    auto_submitted: str | None = None
    bulk: bool = False
    list_unsubscribe: str | None = None
    list_unsubscribe_mailto: str | None = None
    headers: Sequence[tuple[str, str]] = ()
    attachments: Sequence[MailAttachment] = field(default_factory=tuple)
    return_path: str = ""

    def __post_init__(self) -> None:
        if not self.to:
            raise ValueError("a mail needs at least one recipient")
        for address in (*self.to, *self.cc):
            _check_address("recipient", address)
        if self.return_path:
            _check_address("return_path", self.return_path)
        if self.sender:
            _check_address("sender", self.sender)
        if self.reply_to:
            _check_address("reply_to", self.reply_to)
        _check_header_value("subject", self.subject)
        for name, value in (
            ("message_id", self.message_id),
            ("in_reply_to", self.in_reply_to or ""),
            ("auto_submitted", self.auto_submitted or ""),
            *(("references", ref) for ref in self.references),
        ):
            _check_header_value(name, value)
        for ref in (self.message_id, self.in_reply_to or "", *self.references):
            if ref and not (ref.startswith("<") and ref.endswith(">") and "@" in ref):
                raise ValueError(f"{ref!r} is not a Message-ID (<left@right>)")
        for name, value in self.headers:
            _check_header_value("header name", name)
            _check_header_value(name, value)
        if self.list_unsubscribe is not None:
            if not self.bulk:
                raise ValueError("List-Unsubscribe belongs on bulk mail only")
            if not self.list_unsubscribe.startswith("https://"):
                raise ValueError("the one-click unsubscribe URL must be https (RFC 8058)")
            _check_header_value("list_unsubscribe", self.list_unsubscribe)
        if self.list_unsubscribe_mailto is not None:
            if not self.list_unsubscribe_mailto.startswith("mailto:"):
                raise ValueError("list_unsubscribe_mailto must be a mailto: URI")
            _check_header_value("list_unsubscribe_mailto", self.list_unsubscribe_mailto)
        if self.bulk and self.list_unsubscribe is None:
            raise ValueError("bulk mail needs a one-click List-Unsubscribe URL (RFC 8058)")

    def recipients(self) -> list[str]:
        """The bare addresses of To and Cc (the SMTP envelope's RCPT TO)."""
        return [addr for _, addr in getaddresses([*self.to, *self.cc]) if addr]


def new_message_id(domain: str) -> str:
    """A fresh ``<unique@domain>`` Message-ID."""
    return make_msgid(domain=domain)


def build_message(mail: OutgoingMail, *, sender: str, now: datetime) -> EmailMessage:
    """The RFC 5322 message for ``mail``; ``sender`` is used when ``mail.sender`` is empty.

    The Message-ID's domain is the From address's domain.
    """
    if now.tzinfo is None:
        raise ValueError("now must be tz-aware")
    from_value = mail.sender or sender
    _check_address("sender", from_value)
    domain = parseaddr(from_value)[1].rpartition("@")[2] or "localhost"
    message = EmailMessage()
    message["From"] = from_value
    message["To"] = ", ".join(mail.to)
    if mail.cc:
        message["Cc"] = ", ".join(mail.cc)
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = mail.message_id or new_message_id(domain)
    if mail.in_reply_to:
        message["In-Reply-To"] = mail.in_reply_to
    references = list(mail.references)
    if mail.in_reply_to and mail.in_reply_to not in references:
        references.append(mail.in_reply_to)
    if references:
        message["References"] = " ".join(references)
    if mail.auto_submitted:
        message["Auto-Submitted"] = mail.auto_submitted
    if mail.bulk:
        message["Precedence"] = "bulk"
        targets = [f"<{mail.list_unsubscribe}>"]
        if mail.list_unsubscribe_mailto:
            targets.append(f"<{mail.list_unsubscribe_mailto}>")
        message["List-Unsubscribe"] = ", ".join(targets)
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    for name, value in mail.headers:
        message[name] = value
    message.set_content(mail.text)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    for attachment in mail.attachments:
        main, _, sub = attachment.content_type.partition("/")
        message.add_attachment(
            attachment.content, maintype=main, subtype=sub, filename=attachment.filename
        )
    return message


def _check_header_value(what: str, value: str) -> None:
    if any(char in value for char in _FORBIDDEN_IN_HEADERS):
        raise ValueError(f"{what} must not contain line breaks")


def _check_address(what: str, value: str) -> None:
    """The error names the header, never the value: it reaches logs and dead letters,
    and a malformed address is still a person's (issue 13)."""
    _check_header_value(what, value)
    name, addr = parseaddr(value)
    local, at, domain = addr.rpartition("@")
    if not at or not local or not domain or " " in addr:
        raise ValueError(f"{what} is not an e-mail address")
    try:
        Address(display_name=name, addr_spec=addr)
    except (ValueError, HeaderParseError) as exc:
        raise ValueError(f"{what} is not an e-mail address") from exc
