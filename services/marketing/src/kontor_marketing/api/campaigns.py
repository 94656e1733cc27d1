"""Campaigns (``marketing:write`` to draft and schedule, ``marketing:read`` to look) and
the public tracking links of their mails (no token: the signature is the proof).

- ``GET /t/o/{token}``: the open pixel (a 1x1 GIF). **Opens are unreliable**: mail
  clients prefetch images (Apple Mail Privacy Protection) or block them.
- ``GET /t/c/{token}``: a click; redirects (302) to the URL signed into the token only,
  so the route cannot be used as an open redirect; a bad token answers 404. The target
  gets the campaign's UTM tags (``utm_source``, ``utm_medium=email``, ``utm_campaign``
  the campaign's id, ``utm_content`` the A/B variant) unless it has them (ADR 0121).
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, status
from fastapi.responses import RedirectResponse, Response
from kontor_servicekit.apitypes import Count, Flag, Instant, MoneyAmount, Page, PageOut, QueryInt
from kontor_servicekit.auth import require_scope
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.errors import problem_responses
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kontor_marketing.application.campaigns import (
    DraftCampaign,
    create_campaign,
    record_engagement,
    schedule_campaign,
)
from kontor_marketing.context import Context
from kontor_marketing.domain.campaign import Campaign, CampaignResults
from kontor_marketing.domain.results import roi

router = APIRouter(tags=["campaigns"])

CampaignId = Annotated[str, Path(min_length=1, max_length=64)]
Token = Annotated[str, Path(min_length=1, max_length=4000, pattern=r"^[A-Za-z0-9_.%-]+$")]
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
OPENS_NOTE = (
    "Opens are unreliable: mail clients prefetch images (so a mail counts as opened "
    "unread) or block them (so a read mail counts as unopened). Judge by clicks."
)


class VariantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: str | None = Field(default=None, min_length=1, max_length=200)
    text: str | None = Field(default=None, min_length=1, max_length=100_000)
    html: str | None = Field(default=None, max_length=500_000)


class AbTestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sample: MoneyAmount = Field(description="Share of the audience per variant, up to 0.5")
    metric: Literal["clicks", "opens"] = "clicks"
    wait_minutes: Count = Field(default=240, ge=0, le=14 * 24 * 60)


class CampaignIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Winter 2026",
                    "subject": "{{name}}, 10 % auf alles",
                    "text": "Hallo {{name}}, mit {{coupon_code}}: https://shop.example/winter",
                    "topic": "offers",
                    "segment_id": "<id>",
                    "coupon_code": "WINTER10",
                    "cost": "120.00",
                }
            ]
        },
    )
    name: str = Field(min_length=1, max_length=120)
    subject: str = Field(min_length=1, max_length=200)
    text: str = Field(
        min_length=1,
        max_length=100_000,
        description="Plain text with {{placeholders}}; {{coupon_code:<pool id>}} hands each "
        "recipient their own code of a coupon pool (ADR 0118)",
    )
    html: str | None = Field(default=None, max_length=500_000)
    topic: Literal["news", "offers", "back_in_stock"]
    segment_id: str = Field(min_length=1, max_length=64)
    coupon_code: str | None = Field(default=None, min_length=3, max_length=32)
    cost: MoneyAmount = Field(default=Decimal("0"), description="What the campaign cost (ROI)")
    variant_b: VariantIn | None = Field(
        default=None, description="A/B test: B's subject and/or content (A is the above)"
    )
    ab_test: AbTestIn | None = Field(
        default=None, description="With variant_b: the sample, the metric and the wait"
    )


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    send_at: AwareDatetime | None = Field(default=None, description="None: now")
    at_best_time: Flag = Field(
        default=False,
        description="Each person at their best hour of the 24 hours from send_at (their "
        "own opens and clicks by hour of the week, else the segment's, else the shop's)",
    )


class CampaignOut(BaseModel):
    id: str
    name: str
    subject: str
    topic: str
    segment_id: str
    coupon_code: str | None
    cost: MoneyAmount
    status: str
    send_at: Instant | None
    sent_at: Instant | None
    audience_size: int
    recipients: int = Field(description="Mails queued at dispatch")
    skipped_no_consent: int
    skipped_frequency: int
    skipped_no_code: int = Field(
        description="Left out: a coupon pool of the mail had no free code (ADR 0118)"
    )
    at_best_time: bool
    ab_test: bool
    sent_a: int = Field(description="A/B: the sample that got A")
    sent_b: int
    decide_at: Instant | None = Field(description="A/B: when the winner is chosen")
    winner: str | None
    created_at: Instant

    @classmethod
    def of(cls, c: Campaign) -> CampaignOut:
        return cls(
            id=c.id,
            name=c.name,
            subject=c.subject,
            topic=c.topic,
            segment_id=c.segment_id,
            coupon_code=c.coupon_code,
            cost=c.cost,
            status=c.status,
            send_at=c.send_at,
            sent_at=c.sent_at,
            audience_size=c.audience_size,
            recipients=c.recipients,
            skipped_no_consent=c.skipped_no_consent,
            skipped_frequency=c.skipped_frequency,
            skipped_no_code=c.skipped_no_code,
            at_best_time=c.at_best_time,
            ab_test=c.ab_test,
            sent_a=c.sent_a,
            sent_b=c.sent_b,
            decide_at=c.decide_at,
            winner=c.winner,
            created_at=c.created_at,
        )


class ResultsOut(BaseModel):
    delivered: int = Field(description="Mails handed to the relay")
    skipped_at_send: int = Field(description="Consent gone when the mail was to leave")
    opened: int = Field(description="People who opened (unreliable: see opens_note)")
    clicked: int = Field(description="People who clicked")
    unsubscribed: int = Field(description="Unsubscribes through this campaign's mails")
    conversions: int = Field(description="Orders attributed (coupon, or a click in the window)")
    revenue_net: MoneyAmount = Field(description="Their gross less returns; cancelled: 0")
    returns: int = Field(description="Attributed orders with a return")
    roi: Decimal | None = Field(description="(net revenue - cost) / cost; None without cost")
    open_rate: Decimal
    click_rate: Decimal
    conversion_rate: Decimal
    opens_note: str = OPENS_NOTE

    @classmethod
    def of(cls, r: CampaignResults, cost: Decimal) -> ResultsOut:
        def rate(n: int) -> Decimal:
            return (
                (Decimal(n) / r.delivered).quantize(Decimal("0.0001"))
                if r.delivered
                else Decimal(0)
            )

        return cls(
            delivered=r.delivered,
            skipped_at_send=r.skipped,
            opened=r.opened,
            clicked=r.clicked,
            unsubscribed=r.unsubscribed,
            conversions=r.conversions,
            revenue_net=r.revenue_net,
            returns=r.returns,
            roi=roi(r.revenue_net, cost),
            open_rate=rate(r.opened),
            click_rate=rate(r.clicked),
            conversion_rate=rate(r.conversions),
        )


class CampaignReportOut(CampaignOut):
    results: ResultsOut


class CampaignPage(PageOut[CampaignReportOut]):
    pass


@router.post(
    "/campaigns",
    status_code=status.HTTP_201_CREATED,
    response_model=CampaignOut,
    dependencies=[Depends(require_scope("marketing:write"))],
    responses=problem_responses(401, 403, 404, 422),
    summary="Draft an e-mail campaign to a segment (placeholders: name, email, coupon_code, "
    "coupon_code:<pool id>, unsubscribe_url)",
)
async def post_campaign(ctx: Context, body: CampaignIn) -> Response:
    draft = DraftCampaign(
        name=body.name,
        subject=body.subject,
        text=body.text,
        topic=body.topic,
        segment_id=body.segment_id,
        html=body.html,
        coupon_code=body.coupon_code,
        cost=body.cost,
        variant_b_subject=body.variant_b.subject if body.variant_b else None,
        variant_b_text=body.variant_b.text if body.variant_b else None,
        variant_b_html=body.variant_b.html if body.variant_b else None,
        ab_sample=body.ab_test.sample if body.ab_test and body.variant_b else Decimal("0"),
        ab_metric=body.ab_test.metric if body.ab_test else "clicks",
        ab_wait_s=body.ab_test.wait_minutes * 60 if body.ab_test else 0,
    )
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: create_campaign(transactor, draft, clock=ctx.clock),
        present=CampaignOut.of,
        status_code=status.HTTP_201_CREATED,
    )


@router.post(
    "/campaigns/{campaign_id}/schedule",
    response_model=CampaignOut,
    dependencies=[Depends(require_scope("marketing:write"))],
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Schedule a drafted campaign (emits CampaignScheduled); sent when its time comes",
)
async def post_schedule(ctx: Context, campaign_id: CampaignId, body: ScheduleIn) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: schedule_campaign(
            transactor, campaign_id, body.send_at, at_best_time=body.at_best_time, clock=ctx.clock
        ),
        present=CampaignOut.of,
    )


@router.get(
    "/campaigns/{campaign_id}",
    response_model=CampaignReportOut,
    dependencies=[Depends(require_scope("marketing:read"))],
    responses=problem_responses(401, 403, 404),
    summary="A campaign with its results (delivered, opens, clicks, unsubscribes)",
)
async def get_campaign(ctx: Context, campaign_id: CampaignId) -> CampaignReportOut:
    found = await ctx.queries.campaign(campaign_id)
    if found is None:
        raise NotFound("campaign", campaign_id)
    campaign, results = found
    return CampaignReportOut(
        **CampaignOut.of(campaign).model_dump(), results=ResultsOut.of(results, campaign.cost)
    )


@router.get(
    "/campaigns",
    response_model=CampaignPage,
    dependencies=[Depends(require_scope("marketing:read"))],
    responses=problem_responses(401, 403, 422),
    summary="Past and planned campaigns with their results, newest first",
)
async def list_campaigns(
    ctx: Context, page: Page = 1, page_size: Annotated[QueryInt, Query(ge=1, le=100)] = 20
) -> CampaignPage:
    rows, total = await ctx.queries.campaign_page(page=page, page_size=page_size)
    return CampaignPage(
        items=[
            CampaignReportOut(**CampaignOut.of(c).model_dump(), results=ResultsOut.of(r, c.cost))
            for c, r in rows
        ],
        page=page,
        page_size=page_size,
        total=total,
    )


@router.get(
    "/t/o/{token}",
    response_class=Response,
    responses={200: {"content": {"image/gif": {}}}},
    summary="The open pixel of a campaign mail (public; opens are unreliable)",
    tags=["tracking"],
)
async def get_open(ctx: Context, token: Token) -> Response:
    await record_engagement(
        ctx.transactor, token, "open", links=ctx.campaign_links(), clock=ctx.clock
    )
    return Response(PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})


@router.get(
    "/t/c/{token}",
    response_class=RedirectResponse,
    status_code=302,
    responses={404: {"description": "Not a link of this shop"}},
    summary="A tracked link of a campaign mail: records the click, redirects to its target",
    tags=["tracking"],
)
async def get_click(ctx: Context, token: Token) -> Response:
    target = await record_engagement(
        ctx.transactor, token, "click", links=ctx.campaign_links(), clock=ctx.clock
    )
    if not target:
        raise NotFound("link", token[:16])
    return RedirectResponse(target, status_code=302)
