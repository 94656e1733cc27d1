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

CampaignStatus = Literal["draft", "scheduled", "testing", "sent"]

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+(?::[A-Za-z0-9_-]+)?)\s*\}\}")
PLACEHOLDERS = ("name", "email", "coupon_code", "unsubscribe_url")
POOL_CODE = "coupon_code:"
"""``{{coupon_code:<pool id>}}``: a unique code of that coupon pool per recipient (ADR 0118)."""
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
    skipped_no_code: int = 0
    """Recipients left out because a coupon pool of the mail had no free code left."""
    audience_size: int = 0
    at_best_time: bool = False
    """Each person gets it at their best hour of the next 24 hours (``domain/results``)."""
    variant_b_subject: str | None = None
    variant_b_text: str | None = None
    variant_b_html: str | None = None
    ab_sample: Decimal = Decimal("0")
    """A/B test: this share of the audience gets A, as many get B; the rest the winner."""
    ab_metric: Literal["clicks", "opens"] = "clicks"
    ab_wait_s: int = 0
    decide_at: datetime | None = None
    winner: str | None = None
    sent_a: int = 0
    sent_b: int = 0

    def with_variant_b(
        self,
        subject: str | None,
        text: str | None,
        html: str | None,
        *,
        sample: Decimal,
        metric: str,
        wait_s: int,
    ) -> None:
        """An A/B test: B differs in subject and/or content; ``sample`` of the audience
        gets each; after ``wait_s`` the variant with more ``metric`` goes to the rest."""
        if subject is None and text is None and html is None:
            return
        if not Decimal("0") < sample <= Decimal("0.5"):
            raise Invalid(
                "the sample per variant is above 0 and at most 0.5", field=("ab_test", "sample")
            )
        if metric not in ("clicks", "opens"):
            raise Invalid("the metric is clicks or opens", field=("ab_test", "metric"))
        for name_, body in (("subject", subject), ("text", text), ("html", html)):
            unknown = unknown_placeholders(body)
            if unknown:
                raise Invalid(f"unknown placeholders {unknown}", field=("variant_b", name_))
        self.variant_b_subject = subject or self.subject
        self.variant_b_text, self.variant_b_html = text, html
        self.ab_sample, self.ab_metric, self.ab_wait_s = sample, metric, wait_s  # type: ignore[assignment]

    @property
    def ab_test(self) -> bool:
        return self.variant_b_subject is not None and self.ab_sample > 0

    def pools(self, variant: str) -> list[str]:
        """The coupon pools whose codes variant ``variant``'s mail hands out."""
        return pools_in(*self.content(variant))

    def content(self, variant: str) -> tuple[str, str, str | None]:
        """Subject, text and HTML of variant ``A`` or ``B``."""
        if variant == "B" and self.variant_b_subject is not None:
            return (
                self.variant_b_subject,
                self.variant_b_text or self.text,
                self.variant_b_html if self.variant_b_html is not None else self.html,
            )
        return self.subject, self.text, self.html

    def testing(self, sent_a: int, sent_b: int, now: datetime) -> None:
        """The sample left; the winner is decided after ``ab_wait_s``."""
        self.status, self.sent_a, self.sent_b = "testing", sent_a, sent_b
        self.decide_at = now + timedelta(seconds=self.ab_wait_s)

    def decide(self, people_a: int, people_b: int) -> str:
        """The variant with the higher rate of ``ab_metric`` among its recipients (a tie
        keeps A, the original)."""
        rate_a = Decimal(people_a) / self.sent_a if self.sent_a else Decimal(0)
        rate_b = Decimal(people_b) / self.sent_b if self.sent_b else Decimal(0)
        self.winner = "B" if rate_b > rate_a else "A"
        return self.winner

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
        for name_, body in (("subject", subject), ("text", text), ("html", html)):
            unknown = unknown_placeholders(body)
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
        if self.status == "testing":
            return self.decide_at is not None and self.decide_at <= now
        return self.status == "scheduled" and self.send_at is not None and self.send_at <= now

    def dispatched(self, recipients: int, no_consent: int, capped: int, now: datetime) -> None:
        self.status, self.sent_at = "sent", now
        self.recipients, self.skipped_no_consent, self.skipped_frequency = (
            recipients,
            no_consent,
            capped,
        )
        self.record(CampaignWasSent(self.id, recipients, now))


def unknown_placeholders(body: str | None) -> list[str]:
    """The placeholders of ``body`` a campaign cannot fill (a pool's code it can)."""
    names = set(PLACEHOLDER.findall(body or ""))
    return sorted(n for n in names if n not in PLACEHOLDERS and not n.startswith(POOL_CODE))


def pools_in(*bodies: str | None) -> list[str]:
    """The pool ids of the ``{{coupon_code:<pool id>}}`` placeholders, in order, once."""
    names = (n for b in bodies for n in PLACEHOLDER.findall(b or ""))
    return list(dict.fromkeys(n.removeprefix(POOL_CODE) for n in names if n.startswith(POOL_CODE)))


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
    """No advertising mail (campaign or flow) between ``start`` and ``end`` local time
    (e.g. 21:00-08:00); one due then waits for the end (ADR 0119)."""

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
    variant: str | None = None


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
