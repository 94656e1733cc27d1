"""Marketing's outgoing mails: what they say, and their way through the queue. Pure.

A :class:`Mail` is the message (addresses, subject, plain text and HTML, extra headers
such as ``List-Unsubscribe``); a :class:`QueuedMail` is its delivery: queued in the
transaction of what caused it, claimed by one sender for a lease, then sent, skipped
(no consent at the moment of sending) or failed. A mail with a ``topic`` is advertising:
it is sent only if the person's consent to that topic holds when it leaves, and not
inside quiet hours (it waits for their end).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from html import escape
from typing import Literal

from kontor_marketing.domain.campaign import QuietHours

MailStatus = Literal["queued", "sending", "sent", "skipped", "failed"]

MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    unsubscribe_url: str | None = None
    """Advertising: the one-click unsubscribe URL (``List-Unsubscribe``, RFC 8058)."""


@dataclass
class QueuedMail:
    id: str
    kind: str  # confirmation | campaign | flow
    mail: Mail
    created_at: datetime
    topic: str | None = None
    campaign_id: str | None = None
    status: MailStatus = "queued"
    attempts: int = 0
    not_before: datetime | None = None
    lease_until: datetime | None = None
    sent_at: datetime | None = None
    reason: str | None = None
    meta: dict[str, str] = field(default_factory=dict)

    def due(self, now: datetime) -> bool:
        if self.status == "queued":
            return self.not_before is None or self.not_before <= now
        return self.status == "sending" and self.lease_until is not None and self.lease_until <= now

    def wait_for_quiet_hours(self, quiet: QuietHours, now: datetime) -> bool:
        """Advertising (a mail with a topic: campaigns and every flow) that falls due
        inside quiet hours waits until they end, in the shop's time zone; True: it waits.
        A mail without a topic (the double opt-in confirmation: the person just asked
        for it, its link expires) leaves at once (ADR 0119)."""
        if self.topic is None:
            return False
        allowed = quiet.next_allowed(now)
        if allowed <= now:
            return False
        self.status, self.lease_until, self.not_before = "queued", None, allowed
        return True

    def claim(self, now: datetime) -> None:
        self.status = "sending"
        self.lease_until = now + LEASE
        self.attempts += 1

    def sent(self, now: datetime) -> None:
        self.status, self.sent_at, self.lease_until, self.reason = "sent", now, None, None

    def skipped(self, reason: str) -> None:
        self.status, self.lease_until, self.reason = "skipped", None, reason

    def failed(self, reason: str, now: datetime, *, permanent: bool = False) -> None:
        """Retried later with a growing pause, until the attempts are used up; a
        permanent refusal (the relay's 5xx) is given up at once."""
        self.reason, self.lease_until = reason, None
        if permanent or self.attempts >= MAX_ATTEMPTS:
            self.status = "failed"
        else:
            self.status = "queued"
            self.not_before = now + timedelta(seconds=30 * 2 ** (self.attempts - 1))


def confirmation_mail(
    *,
    to: str,
    locale: str,
    topics: tuple[str, ...],
    link: str,
    expires_at: datetime,
    imprint: str,
) -> Mail:
    """The double opt-in mail: the link confirms, nothing else does."""
    until = expires_at.strftime("%d.%m.%Y %H:%M UTC")
    names = ", ".join(topics)
    if locale == "de":
        subject = "Bitte bestätigen Sie Ihre Newsletter-Anmeldung"
        lines = [
            "Hallo,",
            "",
            f"Sie (oder jemand mit Ihrer Adresse) haben den Newsletter bestellt: {names}.",
            "Bitte bestätigen Sie die Anmeldung mit diesem Link:",
            "",
            link,
            "",
            f"Der Link gilt bis {until}. Ohne Bestätigung senden wir Ihnen keinen Newsletter,",
            "und Sie müssen nichts weiter tun.",
        ]
    else:
        subject = "Please confirm your newsletter subscription"
        lines = [
            "Hello,",
            "",
            f"You (or someone using your address) subscribed to the newsletter: {names}.",
            "Please confirm with this link:",
            "",
            link,
            "",
            f"The link is valid until {until}. Without confirmation we send you no",
            "newsletter, and you need do nothing.",
        ]
    text = "\n".join([*lines, "", "--", imprint])
    html = (
        "<!doctype html><html><body>"
        + "".join(f"<p>{escape(line)}</p>" for line in lines if line and line != link)
        + f'<p><a href="{escape(link)}">{escape(link)}</a></p>'
        + f"<hr><p>{escape(imprint)}</p></body></html>"
    )
    return Mail(to=to, subject=subject, text=text, html=html)


def flow_mail(
    mail: Mail,
    *,
    mail_id: str,
    flow: str,
    topic: str,
    now: datetime,
    not_before: datetime | None = None,
    **meta: str,
) -> QueuedMail:
    """``mail`` queued by the flow ``flow``: advertising on ``topic`` (consent is checked
    when it leaves), not before ``not_before``."""
    return QueuedMail(
        id=mail_id,
        kind="flow",
        mail=mail,
        created_at=now,
        topic=topic,
        not_before=not_before,
        meta={"flow": flow, **meta},
    )


def with_unsubscribe(mail: Mail, *, unsubscribe_url: str) -> Mail:
    """Advertising carries its one-click unsubscribe (``List-Unsubscribe`` with
    ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``, RFC 8058)."""
    return replace(mail, unsubscribe_url=unsubscribe_url)
