"""Campaigns: draft, schedule, dispatch to a segment, and record what came back.

:func:`dispatch_due` is one round of the campaign sweeper: a campaign whose moment has
come is resolved to its segment's members **now**, each checked for consent to the
campaign's topic and against the frequency cap; one personalised mail per recipient is
queued (with its one-click unsubscribe, tracked links and the open pixel), not before
the end of quiet hours; the mail sweeper sends them at its bounded rate and checks
consent once more as each leaves.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import quote

from kontor_contracts.events.marketing import CampaignScheduled, CampaignSent
from kontor_servicekit.clock import BERLIN, Clock
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.uow import Transactor

from kontor_marketing.application.consent import ConsentLinks
from kontor_marketing.application.unit_of_work import MarketingUnitOfWork
from kontor_marketing.domain.campaign import (
    Campaign,
    CampaignWasScheduled,
    CampaignWasSent,
    Engagement,
    QuietHours,
    links_in,
    render,
    rewrite_links,
)
from kontor_marketing.domain.links import BadLink
from kontor_marketing.domain.mail import Mail, QueuedMail, with_unsubscribe
from kontor_marketing.domain.profile import Profile
from kontor_marketing.domain.results import best_send_time, hour_of_week

OPEN, CLICK = "campaign-open", "campaign-click"


@dataclass(frozen=True)
class CampaignLinks:
    consent: ConsentLinks

    @property
    def base(self) -> str:
        return self.consent.base_url

    def open_pixel(self, campaign_id: str, email: str) -> str:
        token = self.consent.signer.sign(OPEN, {"c": campaign_id, "e": email}, expires_at=None)
        return f"{self.base}/t/o/{quote(token)}"

    def click(self, campaign_id: str, email: str, url: str) -> str:
        data = {"c": campaign_id, "e": email, "u": url}
        token = self.consent.signer.sign(CLICK, data, expires_at=None)
        return f"{self.base}/t/c/{quote(token)}"


@dataclass(frozen=True)
class DraftCampaign:
    name: str
    subject: str
    text: str
    topic: str
    segment_id: str
    html: str | None = None
    coupon_code: str | None = None
    cost: Decimal = Decimal("0")


@dataclass(frozen=True)
class SendRules:
    imprint: str
    per_week: int
    quiet: QuietHours


async def create_campaign(
    transactor: Transactor[MarketingUnitOfWork], draft: DraftCampaign, *, clock: Clock
) -> Campaign:
    async def work(uow: MarketingUnitOfWork) -> Campaign:
        if await uow.segments.get(draft.segment_id) is None:
            raise NotFound("segment", draft.segment_id)
        campaign = Campaign.draft(campaign_id=str(uuid.uuid4()), now=clock(), **draft.__dict__)
        await uow.campaigns.save(campaign)
        return campaign

    return await transactor.run(work)


async def schedule_campaign(
    transactor: Transactor[MarketingUnitOfWork],
    campaign_id: str,
    send_at: datetime | None,
    *,
    at_best_time: bool = False,
    clock: Clock,
) -> Campaign:
    async def work(uow: MarketingUnitOfWork) -> Campaign:
        campaign = await uow.campaigns.get(campaign_id)
        if campaign is None:
            raise NotFound("campaign", campaign_id)
        segment = await uow.segments.get(campaign.segment_id)
        members = await uow.profiles.in_segment(campaign.segment_id)
        now = clock()
        campaign.schedule(send_at or now, now, len(members), at_best_time=at_best_time)
        for event in campaign.pull_events():
            if isinstance(event, CampaignWasScheduled) and campaign.send_at is not None:
                uow.emit(
                    CampaignScheduled(
                        campaign_id=campaign.id,
                        name=campaign.name,
                        channel="email",
                        scheduled_for=campaign.send_at,
                        audience=segment.name if segment else campaign.segment_id,
                        audience_size=len(members),
                        coupon_code=campaign.coupon_code,
                        subject=campaign.subject,
                    ),
                    aggregate_id=campaign.id,
                )
        await uow.campaigns.save(campaign)
        return campaign

    return await transactor.run(work)


async def dispatch_due(
    transactor: Transactor[MarketingUnitOfWork],
    *,
    links: CampaignLinks,
    rules: SendRules,
    clock: Clock,
) -> int:
    """Dispatch every campaign whose moment has come; answers how many."""

    async def due(uow: MarketingUnitOfWork) -> list[str]:
        return [c.id for c in await uow.campaigns.due(clock())]

    dispatched = 0
    for campaign_id in await transactor.run(due):

        async def one(uow: MarketingUnitOfWork, cid: str = campaign_id) -> None:
            await _dispatch(uow, cid, links, rules, clock)

        await transactor.run(one)
        dispatched += 1
    return dispatched


async def _dispatch(
    uow: MarketingUnitOfWork, campaign_id: str, links: CampaignLinks, rules: SendRules, clock: Clock
) -> None:
    campaign = await uow.campaigns.get(campaign_id)
    now = clock()
    if campaign is None or not campaign.due(now):
        return  # another replica took it
    members = await uow.profiles.in_segment(campaign.segment_id)
    recent = await uow.mails.campaign_mails_since(
        [p.email for p in members], now - timedelta(days=7)
    )
    not_before = rules.quiet.next_allowed(now)
    timing = await _histories(uow, members, now) if campaign.at_best_time else None
    sent = no_consent = capped = 0
    for profile in members:
        consent = await uow.consents.get(profile.email)
        if consent is None or not consent.may_receive(campaign.topic):
            no_consent += 1
            continue
        if recent.get(profile.email, 0) >= rules.per_week:
            capped += 1
            continue
        mail = personalised(campaign, profile.email, profile.name or "", links, rules.imprint)
        leaves = not_before
        if timing is not None:
            own, segment, shop = timing
            best = best_send_time(
                now, own=own.get(profile.email, Counter()), segment=segment, shop=shop, zone=BERLIN
            )
            leaves = rules.quiet.next_allowed(best)
        await uow.mails.add(
            QueuedMail(
                id=str(uuid.uuid4()),
                kind="campaign",
                mail=mail,
                created_at=now,
                topic=campaign.topic,
                campaign_id=campaign.id,
                not_before=None if leaves == now else leaves,
            )
        )
        sent += 1
    campaign.dispatched(sent, no_consent, capped, now)
    for event in campaign.pull_events():
        if isinstance(event, CampaignWasSent):
            uow.emit(
                CampaignSent(
                    campaign_id=campaign.id,
                    recipients=event.recipients,
                    sent_at=event.at,
                    channel="email",
                ),
                aggregate_id=campaign.id,
            )
    await uow.campaigns.save(campaign)


async def _histories(
    uow: MarketingUnitOfWork, members: list[Profile], now: datetime
) -> tuple[dict[str, Counter[int]], Counter[int], Counter[int]]:
    """Opens and clicks of the last 180 days by hour of the week: per member, the
    segment's together, the shop's."""
    since = now - timedelta(days=180)
    emails = {p.email for p in members}
    own: dict[str, Counter[int]] = {}
    segment: Counter[int] = Counter()
    shop: Counter[int] = Counter()
    for engagement in await uow.engagements.of(None, since):
        hour = hour_of_week(engagement.at, BERLIN)
        shop[hour] += 1
        if engagement.email in emails:
            segment[hour] += 1
            own.setdefault(engagement.email, Counter())[hour] += 1
    return own, segment, shop


def personalised(
    campaign: Campaign, email: str, name: str, links: CampaignLinks, imprint: str
) -> Mail:
    unsubscribe = links.consent.unsubscribe_url(email, campaign_id=campaign.id)
    values = {
        "name": name,
        "email": email,
        "coupon_code": campaign.coupon_code or "",
        "unsubscribe_url": unsubscribe,
    }
    text = render(campaign.text, values)
    html = None if campaign.html is None else render(campaign.html, values, html=True)
    tracked = {
        url: links.click(campaign.id, email, url)
        for url in links_in(text, html)
        if not url.startswith(links.base)
    }
    text = rewrite_links(text, tracked)
    footer = f"\n\n--\nAbmelden / unsubscribe: {unsubscribe}\n{imprint}"
    if html is not None:
        pixel = f'<img src="{links.open_pixel(campaign.id, email)}" width="1" height="1" alt="">'
        html = rewrite_links(html, tracked) + (
            f'<hr><p><a href="{unsubscribe}">Abmelden / unsubscribe</a></p><p>{imprint}</p>' + pixel
        )
    mail = Mail(to=email, subject=render(campaign.subject, values), text=text + footer, html=html)
    return with_unsubscribe(mail, unsubscribe_url=unsubscribe)


async def record_engagement(
    transactor: Transactor[MarketingUnitOfWork],
    token: str,
    kind: str,
    *,
    links: CampaignLinks,
    clock: Clock,
) -> str | None:
    """Record an open or a click; answers the click's target (None: a bad link, which
    redirects nowhere: no open redirect)."""
    purpose = OPEN if kind == "open" else CLICK
    try:
        data = links.consent.signer.verify(purpose, token, now=clock())
    except BadLink:
        return None

    async def work(uow: MarketingUnitOfWork) -> None:
        await uow.engagements.add(
            Engagement(
                campaign_id=str(data.get("c")),
                email=str(data.get("e")),
                kind="open" if kind == "open" else "click",
                at=clock(),
                url=None if kind == "open" else str(data.get("u")),
            )
        )

    await transactor.run(work)
    return str(data.get("u") or "")
