"""E-mail in: one raw RFC 5322 message -> one :class:`InboundMessage`. Pure: no I/O.

Parsed with the standard library's ``email`` package (policy ``default``), which
decodes quoted-printable, base64, RFC 2047 encoded words and RFC 2231 filenames. What
it leaves to us, and this module does:

- **charsets that lie or do not exist**: a part is decoded with its declared charset,
  else as UTF-8, else as Windows-1252 (which maps every byte), so no mail crashes the
  parser and no text is lost; raw 8-bit bytes in headers likewise;
- **bodies**: the text and the HTML alternative; the HTML is sanitised (``nh3``: no
  script, style, event handlers or remote images, which would tell the sender that an
  agent opened the mail) and, when a mail has no text part, the text is derived from it;
- **attachments**: every leaf part that is not a chosen body, plus attached messages
  (forwarded mails, a bounce's returned copy) as ``.eml``; the type is taken from the
  content (``filetype``), never from the declared type; the count and size limits of
  :class:`MailLimits` drop what is over them and say so at the end of the text;
- **automated mail** (RFC 3834): auto-replies, bounces (DSNs), read receipts and
  mailing lists are recognised, kept on their ticket and never answered.

A message that has no sender address at all is refused (:class:`MalformedMail`): it
cannot be answered and is most likely not a mail.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import getaddresses
from html.parser import HTMLParser
from pathlib import PurePosixPath, PureWindowsPath

import filetype
import nh3
from kontor_servicekit.languages import preferred_language

from kontor_support.application.inbound import InboundAttachment, InboundMessage

__all__ = [
    "MailLimits",
    "MalformedMail",
    "automated_reason",
    "html_to_text",
    "mail_language",
    "parse_mail",
    "sanitise_html",
]

MiB = 1024 * 1024


@dataclass(frozen=True)
class MailLimits:
    """What one inbound mail may bring (settings ``mail_max_attachments``, ...)."""

    max_attachments: int = 20
    max_attachment_bytes: int = 10 * MiB
    max_attachments_total_bytes: int = 25 * MiB


class MalformedMail(ValueError):
    """Not a mail this service can take (no sender address): refused, not stored."""


# --------------------------------------------------------------------------- text


def _repair(text: str) -> str:
    """``text`` with the surrogate escapes of undecodable bytes turned into characters.

    The ``email`` package keeps bytes it could not decode as lone surrogates; those
    cannot be stored (BSON strings are UTF-8). Raw 8-bit headers are mostly UTF-8,
    else a Western single-byte charset.
    """
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text.replace("\x00", "")
    raw = text.encode("utf-8", "surrogateescape")
    try:
        fixed = raw.decode("utf-8")
    except UnicodeDecodeError:
        fixed = raw.decode("cp1252", "replace")
    return fixed.replace("\x00", "")


def _decode(payload: bytes, charset: str | None) -> str:
    """Bytes of a text part: its charset, else UTF-8, else Windows-1252 (never raises)."""
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("cp1252", "replace")


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    text = _decode(payload, part.get_content_charset())
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _raw_8bit(msg: Message, name: str) -> str | None:
    """The value of a header sent with raw 8-bit bytes, decoded by :func:`_repair`
    (the header registry would turn each such byte into U+FFFD), else None."""
    for key, raw in msg.raw_items():
        if key.lower() == name.lower() and isinstance(raw, str) and _repair(raw) != raw:
            try:
                return str(make_header(decode_header(_repair(raw))))
            except Exception:  # encoded words too broken to decode: the bytes as they are
                return _repair(raw)
    return None


def _header(msg: Message, name: str) -> str | None:
    """A header's decoded value, or None; a header the parser cannot read is None."""
    try:
        value = msg.get(name)
    except Exception:  # a header too broken for the header registry
        return None
    if value is None:
        return None
    text = (_raw_8bit(msg, name) or _repair(str(value))).strip()
    return re.sub(r"\s+", " ", text) or None


# --------------------------------------------------------------------------- HTML


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    # Remote images are tracking pixels as often as not: only inline (cid:) ones stay.
    if tag == "img" and attribute == "src" and not value.lower().startswith(("cid:", "data:")):
        return None
    return value


def sanitise_html(html: str) -> str:
    """HTML safe to show an agent: nh3's allow-list, links opened without referrer,
    remote images removed (inline ``cid:`` images kept)."""
    return nh3.clean(
        html,
        url_schemes={"http", "https", "mailto", "tel", "cid", "data"},
        attribute_filter=_keep_attribute,
    )


_BLOCKS = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
    "figcaption", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
    "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
}  # fmt: skip
_INVISIBLE = {"head", "script", "style", "template", "title"}


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _INVISIBLE:
            self.hidden += 1
        elif tag == "li":
            self.chunks.append("\n- ")
        elif tag in _BLOCKS:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _INVISIBLE:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS and tag != "li":  # the next item or the list's end breaks
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.chunks.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """The readable text of an HTML body: blocks on their own lines, no markup."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    lines = (line.strip() for line in "".join(collector.chunks).split("\n"))
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# --------------------------------------------------------------------------- automated


_AUTOMATED_PRECEDENCE = {"bulk", "auto_reply", "junk", "list"}
_DAEMONS = {"mailer-daemon", "postmaster"}


def automated_reason(msg: Message, envelope_from: str | None = None) -> str | None:
    """Why ``msg`` was sent by a machine (and must never be answered), or None.

    RFC 3834's signals (``Auto-Submitted`` other than ``no``, ``List-Id``) plus what
    common auto-responders and mail servers set instead: ``X-Autoreply``,
    ``X-Autorespond``, ``X-Autogenerated``, ``Precedence: bulk|auto_reply|junk|list``,
    Exchange's ``X-Auto-Response-Suppress``; bounces by their DSN or MDN report type,
    ``X-Failed-Recipients``, a ``MAILER-DAEMON``/``postmaster`` sender or an empty
    return path (``envelope_from`` is SMTP's ``MAIL FROM``; ``""`` is the null sender).
    """
    auto_submitted = _header(msg, "Auto-Submitted")
    if auto_submitted and auto_submitted.split(";")[0].strip().lower() != "no":
        return f"Auto-Submitted: {auto_submitted}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autogenerated", "X-Failed-Recipients"):
        if _header(msg, name) is not None:
            return name
    suppress = _header(msg, "X-Auto-Response-Suppress")
    if suppress and suppress.lower() not in {"none"}:
        return f"X-Auto-Response-Suppress: {suppress}"
    precedence = _header(msg, "Precedence")
    if precedence and precedence.lower() in _AUTOMATED_PRECEDENCE:
        return f"Precedence: {precedence}"
    if _header(msg, "List-Id") is not None:
        return "List-Id"
    if msg.get_content_type() == "multipart/report":
        report = (msg.get_param("report-type") or "").__str__().lower()
        if report in {"delivery-status", "disposition-notification"}:
            return f"multipart/report; report-type={report}"
    if envelope_from is not None and envelope_from.strip() in {"", "<>"}:
        return "null return path"
    return_path = _header(msg, "Return-Path")
    if return_path is not None and return_path.strip() in {"<>", ""}:
        return "null return path"
    sender = _from(msg)[1] or ""
    if sender.split("@")[0].lower() in _DAEMONS:
        return f"sender {sender}"
    return None


# --------------------------------------------------------------------------- headers


def _from(msg: Message) -> tuple[str | None, str | None]:
    """(name, address) of the first From (else Sender, Reply-To is not who wrote it)."""
    for name in ("From", "Sender"):
        value = _header(msg, name)
        if not value:
            continue
        for display, address in getaddresses([value]):
            address = address.strip()
            if "@" in address and " " not in address:
                return (display.strip() or None), address
    return None, None


_ID = re.compile(r"<[^<>\s]+>")


def _ids(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    found = tuple(_ID.findall(value))
    if found:
        return found
    bare = value.strip()
    return (f"<{bare}>",) if bare and " " not in bare else ()


# --------------------------------------------------------------------------- parts


def _leaves(part: Message) -> Iterator[Message]:
    """Every leaf part in order; an attached message (``message/*``) is one leaf."""
    if part.get_content_maintype() == "message" or not part.is_multipart():
        yield part
        return
    payload = part.get_payload()
    if isinstance(payload, list):
        for child in payload:
            if isinstance(child, Message):
                yield from _leaves(child)


def _body(msg: EmailMessage, subtype: str) -> Message | None:
    try:
        return msg.get_body(preferencelist=(subtype,))
    except Exception:  # a structure get_body cannot walk: treat as no such body
        return None


def _attached_message(part: Message) -> tuple[bytes, str] | None:
    """An attached message as bytes and type: a mail as ``message/rfc822`` (the parser
    found a message in it), a DSN's per-recipient fields as text."""
    payload = part.get_payload()
    blocks = [b for b in payload if isinstance(b, Message)] if isinstance(payload, list) else []
    if not blocks:
        return None
    if part.get_content_type() == "message/rfc822":
        return blocks[0].as_bytes(policy=policy.SMTP), "message/rfc822"
    text = "\n".join(str(block).strip() for block in blocks)
    return _repair(text).encode("utf-8"), "text/plain"


def content_type_of(content: bytes) -> str:
    """The type the bytes say they are (magic numbers); text when they decode as UTF-8
    without NULs, else ``application/octet-stream``. The declared type is not asked."""
    guessed = filetype.guess_mime(content)
    if isinstance(guessed, str):
        return guessed
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain" if "\x00" not in text else "application/octet-stream"


_EXTENSIONS = {"message/rfc822": "eml", "text/plain": "txt", "application/octet-stream": "bin"}


def _filename(part: Message, content_type: str, number: int) -> str:
    try:
        raw = part.get_filename()
    except Exception:
        raw = None
    name = _repair(raw or "").strip()
    # Only the last path component, whichever system wrote it, and no control characters.
    name = PureWindowsPath(PurePosixPath(name).name).name
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip(" .")[:200]
    if name:
        return name
    if part.get_content_type() == "message/delivery-status":
        return "delivery-status.txt"
    extension = _EXTENSIONS.get(content_type) or filetype.get_type(mime=content_type)
    suffix = extension if isinstance(extension, str) else getattr(extension, "extension", "bin")
    return f"attachment-{number}.{suffix}"


def _size(n: int) -> str:
    return f"{n / MiB:.1f} MB" if n >= MiB // 10 else f"{max(1, n // 1024)} KB"


def _is_more_text(part: Message) -> bool:
    """A text part beside the body that is part of the message, not a file: a list's
    footer, the text after an inline picture (no filename, not marked attachment)."""
    return (
        part.get_content_type() == "text/plain"
        and part.get_content_disposition() != "attachment"
        and not part.get_filename()
    )


def _attachments(
    msg: EmailMessage, bodies: set[int], limits: MailLimits
) -> tuple[tuple[InboundAttachment, ...], list[str], list[str]]:
    """(kept attachments, why others were dropped, more text parts)."""
    kept: list[InboundAttachment] = []
    dropped: list[str] = []
    more_text: list[str] = []
    total = 0
    for part in _leaves(msg):
        if id(part) in bodies:
            continue
        if part.get_content_maintype() == "message":
            attached = _attached_message(part)
            if attached is None:
                continue
            content, content_type = attached
        else:
            if _is_more_text(part):
                more_text.append(_part_text(part).strip("\n"))
                continue
            payload = part.get_payload(decode=True)
            content = payload if isinstance(payload, bytes) else b""
            content_type = content_type_of(content)
        if not content:
            continue
        name = _filename(part, content_type, len(kept) + len(dropped) + 1)
        if len(kept) >= limits.max_attachments:
            dropped.append(f'"{name}": more than {limits.max_attachments} attachments')
        elif len(content) > limits.max_attachment_bytes:
            dropped.append(
                f'"{name}" ({_size(len(content))}): larger than '
                f"{_size(limits.max_attachment_bytes)}"
            )
        elif total + len(content) > limits.max_attachments_total_bytes:
            dropped.append(
                f'"{name}" ({_size(len(content))}): the attachments together exceed '
                f"{_size(limits.max_attachments_total_bytes)}"
            )
        else:
            total += len(content)
            kept.append(InboundAttachment(name, content_type, content))
    return tuple(kept), dropped, [text for text in more_text if text.strip()]


# --------------------------------------------------------------------------- the mail


def mail_language(msg: Message, text_part: Message | None = None) -> str | None:
    """The language a mail says it is in (ADR 0122): its ``Content-Language`` (RFC 3282;
    Outlook sets it, on the message or on the text part), else the ``Accept-Language``
    some clients send; None when neither names German or English."""
    for part, name in (
        (msg, "Content-Language"),
        (text_part, "Content-Language"),
        (msg, "Accept-Language"),
    ):
        language = preferred_language(_header(part, name)) if part is not None else None
        if language is not None:
            return language
    return None


def parse_mail(
    raw: bytes,
    *,
    received_at: datetime,
    limits: MailLimits | None = None,
    envelope_from: str | None = None,
) -> InboundMessage:
    """The :class:`InboundMessage` of one raw mail (``channel="email"``).

    ``envelope_from`` is the SMTP ``MAIL FROM`` where the mail came over SMTP (an
    empty one marks a bounce); IMAP has none. Raises :class:`MalformedMail` for a
    message with no sender address; anything else, however broken, is parsed.
    """
    limits = limits or MailLimits()
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    from_name, from_email = _from(msg)
    if from_email is None:
        raise MalformedMail("the message has no sender address (From)")

    text_part = _body(msg, "plain")
    html_part = _body(msg, "html")
    bodies = {id(p) for p in (text_part, html_part) if p is not None}
    raw_html = _part_text(html_part) if html_part is not None else None
    body_html = sanitise_html(raw_html).strip() if raw_html is not None else None
    if text_part is not None:
        body_text = _part_text(text_part)
    elif raw_html is not None:
        body_text = html_to_text(raw_html)
    else:
        body_text = ""
    attachments, dropped, more_text = _attachments(msg, bodies, limits)
    body_text = "\n\n".join(part for part in (body_text.strip("\n"), *more_text) if part)
    body_text = "\n".join(line.rstrip() for line in body_text.split("\n"))
    if dropped:
        notes = "\n".join(f"[attachment {reason}: not kept]" for reason in dropped)
        body_text = f"{body_text}\n\n{notes}" if body_text else notes

    message_ids = _ids(_header(msg, "Message-ID"))
    in_reply_to = _ids(_header(msg, "In-Reply-To"))
    return InboundMessage(
        channel="email",
        received_at=received_at,
        body_text=body_text,
        from_email=from_email,
        from_name=from_name,
        subject=_header(msg, "Subject"),
        body_html=body_html,
        message_id=message_ids[0] if message_ids else None,
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=_ids(_header(msg, "References")),
        attachments=attachments,
        automated=automated_reason(msg, envelope_from) is not None,
        language=mail_language(msg, text_part),
    )
