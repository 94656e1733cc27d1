""" "Entered segment" as a trigger (issue 15). Pure.

A segment may carry an :class:`EntryMail`: whoever enters the segment after it was set
(membership is re-decided as events arrive and as time moves rules on recency) gets it,
``delay_minutes`` after entering, advertising on ``topic`` (consent checked when it
leaves). Who was a member already when the mail was set does not enter: no mail for them.
Entries are recorded where membership is decided and turned into mails by a sweeper that
holds the links the mail needs (``application/segment_flows.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from kontor_servicekit.domain_errors import Invalid

from kontor_marketing.domain.campaign import (
    PLACEHOLDER,
    PLACEHOLDERS,
    links_in,
    render,
    rewrite_links,
)
from kontor_marketing.domain.consent import TOPICS
from kontor_marketing.domain.links import with_utm
from kontor_marketing.domain.mail import Mail, with_unsubscribe

ENTRY_FLOW = "entered_segment"
MAX_DELAY_MINUTES = 60 * 24 * 90


@dataclass(frozen=True)
class EntryMail:
    subject: str
    text: str
    topic: str
    delay_minutes: int = 0
    html: str | None = None

    def __post_init__(self) -> None:
        if self.topic not in TOPICS:
            raise Invalid(f"topic is one of {', '.join(TOPICS)}", field=("topic",))
        if not 0 <= self.delay_minutes <= MAX_DELAY_MINUTES:
            raise Invalid(f"delay_minutes is 0 to {MAX_DELAY_MINUTES}", field=("delay_minutes",))
        for name, body in (("subject", self.subject), ("text", self.text), ("html", self.html)):
            unknown = sorted(set(PLACEHOLDER.findall(body or "")) - set(PLACEHOLDERS))
            if unknown:
                raise Invalid(
                    f"unknown placeholders {unknown}; known: {', '.join(PLACEHOLDERS)}",
                    field=(name,),
                )

    def to(
        self,
        email: str,
        name: str,
        *,
        unsubscribe_url: str,
        imprint: str,
        utm: Mapping[str, str] | None = None,
    ) -> Mail:
        """The mail for one person who entered, personalised, with its one-click; the
        links the marketer wrote carry ``utm`` (ADR 0121)."""
        values = {
            "name": name,
            "email": email,
            "coupon_code": "",
            "unsubscribe_url": unsubscribe_url,
        }
        footer = f"\n\n--\nAbmelden / unsubscribe: {unsubscribe_url}\n{imprint}"
        tags = dict(utm or {})

        def tagged(body: str) -> str:
            links = {u: with_utm(u, tags) for u in links_in(body) if tags and u != unsubscribe_url}
            return rewrite_links(body, links)

        html = None
        if self.html is not None:
            html = tagged(render(self.html, values, html=True)) + (
                f'<hr><p><a href="{unsubscribe_url}">Abmelden / unsubscribe</a></p><p>{imprint}</p>'
            )
        mail = Mail(
            to=email,
            subject=render(self.subject, values),
            text=tagged(render(self.text, values)) + footer,
            html=html,
        )
        return with_unsubscribe(mail, unsubscribe_url=unsubscribe_url)


@dataclass(frozen=True)
class SegmentEntry:
    """Someone entered a segment that has an entry mail (turned into the mail later)."""

    id: str
    email: str
    segment_id: str
    at: datetime


def entered(before: tuple[str, ...], after: tuple[str, ...]) -> list[str]:
    """The segments ``after`` has that ``before`` had not."""
    return sorted(set(after) - set(before))
