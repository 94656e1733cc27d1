"""Which ticket a message belongs to, who wrote it and what it speaks of: pure rules.

- A mail's ``In-Reply-To`` and ``References`` name earlier Message-IDs; the newest
  known one decides (``In-Reply-To`` first, then ``References`` from the end).
- Failing that, a ticket reference in the subject (``[#T-2026-000123]``, which our
  replies carry) decides; a bare ``T-2026-000123`` in the subject is accepted too.
- Customers are matched on the e-mail address in lower case and on the phone number
  in international form (``+49...``; a German national number ``0...`` gains ``+49``).
  An erased person's placeholder (``p-...@pseudonym.invalid``, ``—``; an event replayed
  after her erasure) is nobody's address or name (ADR 0128, 0146).
- Order numbers (``B-2026-000042``), invoice and credit-note numbers
  (``RE-2026-000001``, ``GS-...``) and return ids (UUIDs) in a subject or body link the
  ticket to them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kontor_contracts.placeholders import is_placeholder

__all__ = [
    "Links",
    "links_in",
    "new_message_id",
    "normalise_email",
    "normalise_phone",
    "person_name",
    "reply_subject",
    "thread_candidates",
    "ticket_reference",
]

_REFERENCE = re.compile(r"\[#?(T-\d{4}-\d{6})\]|\b(T-\d{4}-\d{6})\b")
_ORDER = re.compile(r"\bB-\d{4}-\d{4,8}\b")
_INVOICE = re.compile(r"\b(?:RE|GS|ST|KR)-\d{4}-\d{4,8}\b")
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|wg|fw|fwd|antw)\s*(\[\d+\])?\s*:\s*)+", re.I)
_PHONE_JUNK = re.compile(r"[\s\-/().]")


def ticket_reference(subject: str | None) -> str | None:
    """The ticket number a subject refers to, if any."""
    if not subject:
        return None
    found = _REFERENCE.search(subject)
    return None if found is None else (found.group(1) or found.group(2))


def reply_subject(subject: str, ticket_id: str) -> str:
    """``Re: <subject> [#T-...]``: one ``Re:``, one reference, whatever came before."""
    bare = _REPLY_PREFIX.sub("", subject)
    bare = _REFERENCE.sub("", bare).strip() or "Ihre Anfrage"
    return f"Re: {bare} [#{ticket_id}]"


def message_ids(value: str | None) -> list[str]:
    """The ``<...>`` ids in a header value, or the value itself if it has no brackets."""
    if not value:
        return []
    found = _MESSAGE_ID.findall(value)
    if found:
        return found
    stripped = value.strip()
    return [f"<{stripped}>"] if stripped and " " not in stripped else []


def normalise_message_id(value: str | None) -> str | None:
    ids = message_ids(value)
    return ids[0] if ids else None


def thread_candidates(in_reply_to: str | None, references: Sequence[str]) -> list[str]:
    """Message-IDs that may name the thread, the most telling first."""
    found: list[str] = list(message_ids(in_reply_to))
    for ref in reversed(references):
        found.extend(reversed(message_ids(ref)))
    return list(dict.fromkeys(found))[:50]


def normalise_email(address: str | None) -> str | None:
    if not address:
        return None
    cleaned = address.strip().strip("<>").strip().lower()
    return cleaned if "@" in cleaned and not is_placeholder(cleaned) else None


def person_name(name: str | None) -> str | None:
    """``name``, or None for an erased person's placeholder."""
    return None if name is None or is_placeholder(name) else name


def normalise_phone(number: str | None, *, country_code: str = "49") -> str | None:
    """``0171 / 123 45-67`` → ``+491711234567``; ``0049...`` and ``+49 (0)...`` too."""
    if not number:
        return None
    digits = _PHONE_JUNK.sub("", number.strip())
    if digits.startswith("+"):
        digits = "+" + digits[1:].replace("+", "")
    digits = digits.replace(f"+{country_code}0", f"+{country_code}")
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif digits.startswith("0"):
        digits = f"+{country_code}{digits[1:]}"
    if not re.fullmatch(r"\+?\d{5,16}", digits):
        return None
    return digits if digits.startswith("+") else f"+{digits}"


@dataclass(frozen=True)
class Links:
    order_numbers: tuple[str, ...] = ()
    invoice_numbers: tuple[str, ...] = ()
    return_ids: tuple[str, ...] = ()


def links_in(texts: Iterable[str | None]) -> Links:
    """The order, invoice and return references in ``texts``, each once, in order."""
    orders: list[str] = []
    invoices: list[str] = []
    returns: list[str] = []
    for text in texts:
        if not text:
            continue
        head = text[:20_000]
        orders += _ORDER.findall(head)
        invoices += _INVOICE.findall(head)
        returns += [u.lower() for u in _UUID.findall(head)]
    return Links(
        tuple(dict.fromkeys(orders)), tuple(dict.fromkeys(invoices)), tuple(dict.fromkeys(returns))
    )


def new_message_id(domain: str) -> str:
    """A fresh RFC 5322 Message-ID of ``domain``."""
    return f"<{uuid.uuid4().hex}@{domain}>"
