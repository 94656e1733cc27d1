"""Campaigns: draft, schedule, dispatch to a segment, and record what came back.

:func:`dispatch_due` is one round of the campaign sweeper: a campaign whose moment has
come is resolved to its segment's members **now**, each checked for consent to the
campaign's topic and against the frequency cap; one personalised mail per recipient is
queued (with its one-click unsubscribe, tracked links and the open pixel), not before
the end of quiet hours; the mail sweeper sends them at its bounded rate and checks
consent once more as each leaves.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import quote

from kontor_contracts.events.marketing import CampaignScheduled, CampaignSent
from kontor_servicekit.clock import BERLIN, Clock
from kontor_servicekit.domain_errors import Invalid, NotFound
from kontor_servicekit.uow import Transactor

from kontor_marketing.application.consent import ConsentLinks
from kontor_marketing.application.coupon_pools import hand_out
from kontor_marketing.application.unit_of_work import MarketingUnitOfWork
from kontor_marketing.domain.campaign import (
    POOL_CODE,
    Campaign,
    CampaignWasScheduled,
    CampaignWasSent,
    Engagement,
    QuietHours,
    links_in,
    pools_in,
    render,
    rewrite_links,
)
from kontor_marketing.domain.consent import may_advertise
from kontor_marketing.domain.coupon_pool import NO_CODE
from kontor_marketing.domain.links import BadLink, campaign_utm, with_utm
from kontor_marketing.domain.mail import Mail, QueuedMail, with_unsubscribe
from kontor_marketing.domain.profile import Profile
from kontor_marketing.domain.results import best_send_time, hour_of_week

OPEN, CLICK = "campaign-open", "campaign-click"
OBJECTION = (
    "Sie können der Verwendung Ihrer E-Mail-Adresse für Werbung jederzeit widersprechen, "
    "ohne dass andere als die Übermittlungskosten nach den Basistarifen entstehen."
)
"""In every campaign mail: the notice §7 Abs. 3 Nr. 4 UWG requires (ADR 0051)."""


@dataclass(frozen=True)
class CampaignLinks:
    consent: ConsentLinks
    utm_source: str = "kontor"
    """``utm_source`` of the click redirects' targets (the shop's setting, ADR 0121)."""

    @property
    def base(self) -> str:
        return self.consent.base_url

    def open_pixel(self, campaign_id: str, email: str, variant: str = "A") -> str:
        data = {"c": campaign_id, "e": email, "v": variant}
        token = self.consent.signer.sign(OPEN, data, expires_at=None)
        return f"{self.base}/t/o/{quote(token)}"

    def click(self, campaign_id: str, email: str, url: str, variant: str = "A") -> str:
        data = {"c": campaign_id, "e": email, "u": url, "v": variant}
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
    variant_b_subject: str | None = None
    variant_b_text: str | None = None
    variant_b_html: str | None = None
    ab_sample: Decimal = Decimal("0")
    ab_metric: str = "clicks"
    ab_wait_s: int = 0


@dataclass(frozen=True)
class SendRules:
    imprint: str
    per_week: int
    quiet: QuietHours
    uwg_7_3: bool = False


async def create_campaign(
    transactor: Transactor[MarketingUnitOfWork], draft: DraftCampaign, *, clock: Clock
) -> Campaign:
    async def work(uow: MarketingUnitOfWork) -> Campaign:
        if await uow.segments.get(draft.segment_id) is None:
            raise NotFound("segment", draft.segment_id)
        base = {k: v for k, v in draft.__dict__.items() if not k.startswith(("variant_b", "ab_"))}
        campaign = Campaign.draft(campaign_id=str(uuid.uuid4()), now=clock(), **base)
        campaign.with_variant_b(
            draft.variant_b_subject,
            draft.variant_b_text,
            draft.variant_b_html,
            sample=draft.ab_sample,
            metric=draft.ab_metric,
            wait_s=draft.ab_wait_s,
        )
        await _pools_exist(uow, campaign)
        await uow.campaigns.save(campaign)
        return campaign

    return await transactor.run(work)


async def _pools_exist(uow: MarketingUnitOfWork, campaign: Campaign) -> None:
    """Every ``{{coupon_code:<pool id>}}`` names a coupon pool (ADR 0118)."""
    bodies = {
        ("subject",): campaign.subject,
        ("text",): campaign.text,
        ("html",): campaign.html,
        ("variant_b", "subject"): campaign.variant_b_subject,
        ("variant_b", "text"): campaign.variant_b_text,
        ("variant_b", "html"): campaign.variant_b_html,
    }
    for where, body in bodies.items():
        for pool_id in pools_in(body):
            if await uow.coupon_pools.get(pool_id) is None:
                raise Invalid(f"no coupon pool {pool_id!r}", field=where)


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
                        cost=campaign.cost,
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
    eligible: list[Profile] = []
    no_consent = capped = 0
    for profile in members:
        consent = await uow.consents.get(profile.email)
        customer = bool(profile.kept_orders())
        if not may_advertise(consent, campaign.topic, has_ordered=customer, uwg_7_3=rules.uwg_7_3):
            no_consent += 1
        elif recent.get(profile.email, 0) >= rules.per_week:
            capped += 1
        else:
            eligible.append(profile)
    send = _Sender(uow, campaign, links, rules, now)
    if campaign.status == "testing":  # the sample's time is up: the rest get the winner
        people = await uow.engagements.people(campaign.id, campaign.ab_metric[:-1])
        winner = campaign.decide(people.get("A", 0), people.get("B", 0))
        done = await uow.mails.campaign_recipients(campaign.id)
        rest = [p for p in eligible if p.email not in done]
        total = campaign.sent_a + campaign.sent_b + await send.all(rest, winner)
        campaign.dispatched(total, no_consent, capped, now)  # counted over everyone again
    elif campaign.ab_test:
        ordered = sorted(eligible, key=lambda p: _spread(campaign.id, p.email))
        k = max(1, int(len(ordered) * campaign.ab_sample)) if ordered else 0
        sent_a = await send.all(ordered[:k], "A")
        sent_b = await send.all(ordered[k : 2 * k], "B")
        campaign.skipped_no_consent = no_consent
        campaign.testing(sent_a, sent_b, now)
    else:
        campaign.dispatched(await send.all(eligible, "A"), no_consent, capped, now)
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


def _spread(campaign_id: str, email: str) -> str:
    """A stable random order of the audience per campaign (who is in the sample)."""
    return hashlib.sha256(f"{campaign_id}:{email}".encode()).hexdigest()


class _Sender:
    """Queues a campaign's personalised mails, each at its moment (quiet hours, best time)."""

    def __init__(
        self,
        uow: MarketingUnitOfWork,
        campaign: Campaign,
        links: CampaignLinks,
        rules: SendRules,
        now: datetime,
    ) -> None:
        self.uow, self.campaign, self.links, self.rules, self.now = uow, campaign, links, rules, now
        self.not_before = rules.quiet.next_allowed(now)

    async def all(self, people: list[Profile], variant: str) -> int:
        """Queue the mails of variant ``variant`` to ``people``; answers how many were
        queued (a person a coupon pool has no code left for is skipped, ADR 0118)."""
        queued = 0
        timing = (
            await _histories(self.uow, people, self.now) if self.campaign.at_best_time else None
        )
        for profile in people:
            leaves = self.not_before
            if timing is not None:
                own, segment, shop = timing
                best = best_send_time(
                    self.now,
                    own=own.get(profile.email, Counter()),
                    segment=segment,
                    shop=shop,
                    zone=BERLIN,
                )
                leaves = self.rules.quiet.next_allowed(best)
            codes, exhausted = await self._codes(profile.email, variant)
            mail = personalised(
                self.campaign,
                profile.email,
                profile.name or "",
                self.links,
                self.rules.imprint,
                variant=variant,
                codes=codes,
            )
            queued_mail = QueuedMail(
                id=str(uuid.uuid4()),
                kind="campaign",
                mail=mail,
                created_at=self.now,
                topic=self.campaign.topic,
                campaign_id=self.campaign.id,
                not_before=None if leaves == self.now else leaves,
                meta={"variant": variant},
            )
            if exhausted is not None:  # recorded, never sent without its code
                queued_mail.skipped(f"coupon pool {exhausted} has no free code left")
                queued_mail.meta[NO_CODE] = exhausted
                self.campaign.skipped_no_code += 1
            else:
                queued += 1
            await self.uow.mails.add(queued_mail)
        return queued

    async def _codes(self, email: str, variant: str) -> tuple[dict[str, str], str | None]:
        """The pool codes the mail carries (``coupon_code:<pool id>`` -> code), handed
        out in this transaction, and the first pool that had none left (or None)."""
        codes: dict[str, str] = {}
        for pool_id in self.campaign.pools(variant):
            code = await hand_out(
                self.uow, pool_id, campaign_id=self.campaign.id, email=email, now=self.now
            )
            if code is None:
                return codes, pool_id
            codes[f"{POOL_CODE}{pool_id}"] = code
        return codes, None


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
    campaign: Campaign,
    email: str,
    name: str,
    links: CampaignLinks,
    imprint: str,
    *,
    variant: str = "A",
    codes: dict[str, str] | None = None,
) -> Mail:
    """The campaign's mail to ``email``; ``codes``: the pool codes handed to them
    (``coupon_code:<pool id>`` -> code, ADR 0118)."""
    unsubscribe = links.consent.unsubscribe_url(email, campaign_id=campaign.id)
    values = {
        **(codes or {}),
        "name": name,
        "email": email,
        "coupon_code": campaign.coupon_code or "",
        "unsubscribe_url": unsubscribe,
    }
    subject, body, body_html = campaign.content(variant)
    text = render(body, values)
    html = None if body_html is None else render(body_html, values, html=True)
    tracked = {
        url: links.click(campaign.id, email, url, variant)
        for url in links_in(text, html)
        if not url.startswith(links.base)
    }
    text = rewrite_links(text, tracked)
    footer = f"\n\n--\n{OBJECTION}\nAbmelden / unsubscribe: {unsubscribe}\n{imprint}"
    if html is not None:
        src = links.open_pixel(campaign.id, email, variant)
        pixel = f'<img src="{src}" width="1" height="1" alt="">'
        html = rewrite_links(html, tracked) + (
            f'<hr><p><a href="{unsubscribe}">Abmelden / unsubscribe</a></p><p>{imprint}</p>' + pixel
        )
    mail = Mail(to=email, subject=render(subject, values), text=text + footer, html=html)
    return with_unsubscribe(mail, unsubscribe_url=unsubscribe)


async def record_engagement(
    transactor: Transactor[MarketingUnitOfWork],
    token: str,
    kind: str,
    *,
    links: CampaignLinks,
    clock: Clock,
) -> str | None:
    """Record an open or a click; answers the click's target with the campaign's UTM
    tags (ADR 0121; ``utm_content`` the variant when the campaign is an A/B test), or
    None: a bad link, which redirects nowhere (no open redirect)."""
    purpose = OPEN if kind == "open" else CLICK
    try:
        data = links.consent.signer.verify(purpose, token, now=clock())
    except BadLink:
        return None

    campaign_id, variant = str(data.get("c")), str(data.get("v") or "A")

    async def work(uow: MarketingUnitOfWork) -> str:
        await uow.engagements.add(
            Engagement(
                campaign_id=campaign_id,
                email=str(data.get("e")),
                kind="open" if kind == "open" else "click",
                at=clock(),
                url=None if kind == "open" else str(data.get("u")),
                variant=variant,
            )
        )
        target = str(data.get("u") or "")
        if kind == "open" or not target:
            return target
        campaign = await uow.campaigns.get(campaign_id)
        tested = campaign is not None and campaign.ab_test
        return with_utm(
            target, campaign_utm(links.utm_source, campaign_id, variant if tested else None)
        )

    return await transactor.run(work)
