"""Consent to the newsletter (DSGVO Art. 7, UWG §7): per person, per topic, with evidence.

A person (keyed by the normalised e-mail address) asks for topics (``pending``); only the
confirmation through the signed link of the confirmation mail (double opt-in) makes a
topic ``confirmed``; an unsubscribe makes it ``unsubscribed`` at once. Every step is kept
as :class:`Evidence`: when, from where (the source, the IP address truncated), and for
a request the exact text the person agreed to, so the merchant can prove the consent
(Art. 7(1) DSGVO) without keeping a full IP address.

Asking again after an unsubscribe starts a new double opt-in; a confirmation link of an
earlier request does not revive a topic unsubscribed since (the link names the request).
Pure: standard library only.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from kontor_servicekit.aggregate import RecordsEvents
from kontor_servicekit.domain_errors import Conflict, Invalid, Location

from kontor_marketing.domain.events import ConsentConfirmed, ConsentRequested, ConsentWithdrawn

TopicStatus = Literal["pending", "confirmed", "unsubscribed"]

TOPICS = ("news", "offers", "back_in_stock")
"""The newsletter topics a person may choose."""

LOCALES = ("de", "en")

CONSENT_TEXT_VERSION = "2026-12-v1"
CONSENT_TEXTS = {
    "de": (
        "Ja, ich möchte den Newsletter zu den gewählten Themen per E-Mail erhalten. "
        "Meine Einwilligung kann ich jederzeit widerrufen, z. B. über den Abmeldelink in "
        "jeder E-Mail. Hinweise zum Datenschutz: siehe Datenschutzerklärung."
    ),
    "en": (
        "Yes, I would like to receive the newsletter on the chosen topics by e-mail. "
        "I can withdraw my consent at any time, e.g. through the unsubscribe link in "
        "every e-mail. Privacy: see the privacy policy."
    ),
}
"""What the subscription form shows and the person agrees to (kept in the evidence)."""


def normalise_email(email: str, *, location: Location = "body") -> str:
    """The address as consent is keyed: trimmed, lower case (one person, one record)."""
    address = email.strip().lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in address):
        raise Invalid("not an e-mail address", field=("email",), location=location)
    return address


def truncate_ip(address: str | None) -> str | None:
    """The address with its host part removed: IPv4 to its /24, IPv6 to its /48.

    Enough to show where a consent came from (a provider, a region), not who."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


@dataclass(frozen=True)
class Evidence:
    """One step of the consent's history."""

    kind: Literal["requested", "confirmed", "unsubscribed"]
    at: datetime
    topics: tuple[str, ...]
    source: str
    ip: str | None = None
    text: str | None = None
    text_version: str | None = None
    request_id: str | None = None


@dataclass
class TopicConsent:
    status: TopicStatus
    requested_at: datetime
    request_id: str
    confirmed_at: datetime | None = None
    unsubscribed_at: datetime | None = None


@dataclass
class Consent(RecordsEvents):
    email: str
    locale: str
    topics: dict[str, TopicConsent] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)
    customer_id: str | None = None

    @property
    def status(self) -> TopicStatus:
        """``confirmed`` if any topic is, else ``pending`` if any is, else ``unsubscribed``."""
        states = {t.status for t in self.topics.values()}
        if "confirmed" in states:
            return "confirmed"
        return "pending" if "pending" in states else "unsubscribed"

    def confirmed_topics(self) -> tuple[str, ...]:
        return tuple(sorted(n for n, t in self.topics.items() if t.status == "confirmed"))

    def may_receive(self, topic: str) -> bool:
        """True only for a topic confirmed by double opt-in and not unsubscribed."""
        found = self.topics.get(topic)
        return found is not None and found.status == "confirmed"

    def request(
        self,
        topics: tuple[str, ...],
        *,
        request_id: str,
        at: datetime,
        source: str,
        ip: str | None,
        locale: str,
    ) -> tuple[str, ...]:
        """Ask for ``topics``; answers those that now wait for confirmation (the ones
        confirmed already stay confirmed and need no mail)."""
        unknown = [t for t in topics if t not in TOPICS]
        if unknown or not topics:
            raise Invalid(f"topics must be some of {', '.join(TOPICS)}", field=("topics",))
        if locale not in LOCALES:
            raise Invalid(f"locale must be one of {', '.join(LOCALES)}", field=("locale",))
        self.locale = locale
        waiting = tuple(sorted(t for t in set(topics) if not self.may_receive(t)))
        if not waiting:
            return ()
        for topic in waiting:
            self.topics[topic] = TopicConsent("pending", requested_at=at, request_id=request_id)
        self.evidence.append(
            Evidence(
                "requested",
                at,
                waiting,
                source,
                truncate_ip(ip),
                CONSENT_TEXTS[locale],
                CONSENT_TEXT_VERSION,
                request_id,
            )
        )
        self.record(ConsentRequested(self.email, waiting, request_id, locale))
        return waiting

    def confirm(self, request_id: str, *, at: datetime, ip: str | None) -> tuple[str, ...]:
        """Confirm what request ``request_id`` asked for; answers the topics confirmed now.

        A link of a request superseded (a newer request, an unsubscribe since) confirms
        nothing: Conflict. The same link twice confirms once."""
        asked = [n for n, t in self.topics.items() if t.request_id == request_id]
        if not asked:
            raise Conflict("this confirmation link was replaced by a newer one or withdrawn")
        now_confirmed = tuple(sorted(n for n in asked if self.topics[n].status == "pending"))
        if any(self.topics[n].status == "unsubscribed" for n in asked) and not now_confirmed:
            raise Conflict("the subscription was withdrawn after this link was sent")
        for name in now_confirmed:
            self.topics[name].status = "confirmed"
            self.topics[name].confirmed_at = at
        if now_confirmed:
            self.evidence.append(
                Evidence(
                    "confirmed",
                    at,
                    now_confirmed,
                    "confirmation_link",
                    truncate_ip(ip),
                    request_id=request_id,
                )
            )
            self.record(ConsentConfirmed(self.email, now_confirmed, self.confirmed_topics(), at))
        return now_confirmed

    def unsubscribe(
        self, topics: tuple[str, ...] | None, *, at: datetime, source: str, ip: str | None
    ) -> tuple[str, ...]:
        """Withdraw ``topics`` (None: all); effective at once. Answers what changed."""
        chosen = self.topics.keys() if topics is None else [t for t in topics if t in self.topics]
        changed = tuple(sorted(t for t in chosen if self.topics[t].status != "unsubscribed"))
        for name in changed:
            self.topics[name].status = "unsubscribed"
            self.topics[name].unsubscribed_at = at
        if changed:
            self.evidence.append(Evidence("unsubscribed", at, changed, source, truncate_ip(ip)))
            self.record(ConsentWithdrawn(self.email, changed, self.confirmed_topics(), at, source))
        return changed
