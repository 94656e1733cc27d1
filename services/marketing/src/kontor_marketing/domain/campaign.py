"""E-mail campaigns: what is sent to whom, when, and what came of it. Pure.

A :class:`Campaign` is drafted (subject, plain text and optional HTML with
placeholders, the consent topic it advertises in, the audience segment), scheduled for
a moment, then dispatched: each member of the segment whose consent to the topic holds
gets one personalised mail, unless the frequency cap says they had enough campaign
mail this week; quiet hours move the send to the morning. Consent is checked again
when each mail leaves (``application/mail.py``). Opens and clicks come back through
signed tracking links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from html import escape
from typing import Literal
from zoneinfo import ZoneInfo

from kontor_servicekit.aggregate import RecordsEvents
from kontor_servicekit.domain_errors import IllegalTransition, Invalid

from kontor_marketing.domain.consent import TOPICS

CampaignStatus = Literal["draft", "scheduled", "sent"]

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
PLACEHOLDERS = ("name", "email", "coupon_code", "unsubscribe_url")
LINK = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True)
class CampaignWasScheduled:
    campaign_id: str


@dataclass(frozen=True)
class CampaignWasSent:
    campaign_id: str
    recipients: int
    at: datetime


@dataclass
class Campaign(RecordsEvents):
    id: str
    name: str
    subject: str
    text: str
    topic: str
    segment_id: str
    created_at: datetime
    html: str | None = None
    coupon_code: str | None = None
    cost: Decimal = Decimal("0")
    status: CampaignStatus = "draft"
    send_at: datetime | None = None
    sent_at: datetime | None = None
    recipients: int = 0
    skipped_no_consent: int = 0
    skipped_frequency: int = 0
    audience_size: int = 0
    at_best_time: bool = False
    """Each person gets it at their best hour of the next 24 hours (``domain/results``)."""

    @classmethod
    def draft(
        cls,
        *,
        campaign_id: str,
        name: str,
        subject: str,
        text: str,
        topic: str,
        segment_id: str,
        now: datetime,
        html: str | None = None,
        coupon_code: str | None = None,
        cost: Decimal = Decimal("0"),
    ) -> Campaign:
        if topic not in TOPICS:
            raise Invalid(f"topic is one of {', '.join(TOPICS)}", field=("topic",))
        for name_, body in (("subject", subject), ("text", text), ("html", html or "")):
            unknown = sorted(set(PLACEHOLDER.findall(body)) - set(PLACEHOLDERS))
            if unknown:
                raise Invalid(
                    f"unknown placeholders {unknown}; known: {', '.join(PLACEHOLDERS)}",
                    field=(name_,),
                )
        return cls(
            id=campaign_id,
            name=name,
            subject=subject,
            text=text,
            topic=topic,
            segment_id=segment_id,
            created_at=now,
            html=html,
            coupon_code=coupon_code,
            cost=cost,
        )

    def schedule(
        self, send_at: datetime, now: datetime, audience_size: int, *, at_best_time: bool = False
    ) -> None:
        if self.status != "draft":
            raise IllegalTransition(f"campaign {self.id}", "schedule", self.status)
        if send_at.tzinfo is None:
            raise Invalid("send_at needs its time zone", field=("send_at",))
        self.status, self.send_at = "scheduled", max(send_at, now)
        self.audience_size, self.at_best_time = audience_size, at_best_time
        self.record(CampaignWasScheduled(self.id))

    def due(self, now: datetime) -> bool:
        return self.status == "scheduled" and self.send_at is not None and self.send_at <= now

    def dispatched(self, recipients: int, no_consent: int, capped: int, now: datetime) -> None:
        self.status, self.sent_at = "sent", now
        self.recipients, self.skipped_no_consent, self.skipped_frequency = (
            recipients,
            no_consent,
            capped,
        )
        self.record(CampaignWasSent(self.id, recipients, now))


def render(template: str, values: dict[str, str], *, html: bool = False) -> str:
    """Fill the placeholders (HTML-escaped in HTML); a missing value becomes empty."""

    def fill(match: re.Match[str]) -> str:
        value = values.get(match.group(1), "")
        return escape(value) if html else value

    return PLACEHOLDER.sub(fill, template)


def rewrite_links(body: str, tracked: dict[str, str]) -> str:
    """Replace each link of ``body`` by its tracked (signed redirect) form."""
    return LINK.sub(lambda m: tracked.get(m.group(0), m.group(0)), body)


def links_in(*bodies: str | None) -> list[str]:
    return sorted({m for b in bodies if b for m in LINK.findall(b)})


@dataclass(frozen=True)
class QuietHours:
    """No campaign mail between ``start`` and ``end`` local time (e.g. 21:00-08:00)."""

    start: time
    end: time
    zone: ZoneInfo

    def next_allowed(self, moment: datetime) -> datetime:
        local = moment.astimezone(self.zone)
        t = local.timetz().replace(tzinfo=None)
        inside = (
            (t >= self.start or t < self.end)
            if self.start > self.end
            else (self.start <= t < self.end)
        )
        if not inside:
            return moment
        day = local.date() if t < self.end else local.date() + timedelta(days=1)
        return datetime.combine(day, self.end, tzinfo=self.zone)


@dataclass
class FrequencyCap:
    """At most ``per_week`` campaign mails per person in any 7 days."""

    per_week: int
    sent: dict[str, int] = field(default_factory=dict)

    def allows(self, email: str) -> bool:
        return self.sent.get(email, 0) < self.per_week


@dataclass(frozen=True)
class Engagement:
    """An open (the tracking pixel: unreliable, mail clients prefetch or block images),
    a click (a signed redirect) or an unsubscribe from a campaign's mail."""

    campaign_id: str
    email: str
    kind: Literal["open", "click", "unsubscribe"]
    at: datetime
    url: str | None = None


@dataclass(frozen=True)
class CampaignResults:
    """What came back of a campaign (people, not events: two clicks of one are one)."""

    delivered: int = 0
    skipped: int = 0
    opened: int = 0
    clicked: int = 0
    unsubscribed: int = 0
    conversions: int = 0
    revenue_net: Decimal = Decimal("0")
    """Attributed orders' gross, less what was refunded, cancelled ones not counted."""
    returns: int = 0
    """Attributed orders with a return."""
