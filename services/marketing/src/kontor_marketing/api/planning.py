"""The planning view: what worked before, shown before the next campaign is scheduled.

Past campaigns side by side (audience, when they left, open/click/conversion rate, net
revenue after returns, ROI, returns and unsubscribes caused), the hours of the week when
people answered most, and the segments that answered best.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from kontor_servicekit.apitypes import Instant, MoneyAmount, QueryInt
from kontor_servicekit.auth import require_scope
from kontor_servicekit.clock import BERLIN
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, Field

from kontor_marketing.api.campaigns import OPENS_NOTE, ResultsOut
from kontor_marketing.context import Context
from kontor_marketing.domain.results import WEEKDAYS, hour_of_week, top_hours

router = APIRouter(tags=["planning"])


class PastCampaignOut(BaseModel):
    id: str
    name: str
    segment: str
    audience_size: int
    sent_at: Instant | None
    sent_hour: str | None = Field(description="Weekday and hour it left, Berlin time")
    cost: MoneyAmount
    results: ResultsOut


class HourOut(BaseModel):
    weekday: str
    hour: int
    engagements: int


class SegmentAnswerOut(BaseModel):
    segment: str
    campaigns: int
    delivered: int
    click_rate: Decimal
    revenue_net: MoneyAmount


class PlanningOut(BaseModel):
    campaigns: list[PastCampaignOut]
    best_hours: list[HourOut] = Field(description="Opens and clicks of the last 180 days")
    best_segments: list[SegmentAnswerOut] = Field(description="By net revenue, then clicks")
    opens_note: str = OPENS_NOTE


def _hour(moment: datetime) -> str:
    local = moment.astimezone(BERLIN)
    return f"{WEEKDAYS[local.weekday()]} {local:%H}:00"


@router.get(
    "/planning",
    response_model=PlanningOut,
    dependencies=[Depends(require_scope("marketing:read"))],
    responses=problem_responses(401, 403, 422),
    summary="What worked before: past campaigns compared, best send hours, best segments",
)
async def get_planning(
    ctx: Context, campaigns: Annotated[QueryInt, Query(ge=1, le=100)] = 20
) -> PlanningOut:
    now = ctx.clock()
    past = await ctx.queries.sent_campaigns(campaigns)
    hours = Counter(
        hour_of_week(t, BERLIN)
        for t in await ctx.queries.engagement_times(now - timedelta(days=180))
    )
    by_segment: dict[str, list[int | Decimal]] = {}
    shown = []
    for campaign, results, segment in past:
        out = ResultsOut.of(results, campaign.cost)
        sent = campaign.sent_at
        shown.append(
            PastCampaignOut(
                id=campaign.id,
                name=campaign.name,
                segment=segment,
                audience_size=campaign.audience_size,
                sent_at=sent,
                sent_hour=None if sent is None else _hour(sent),
                cost=campaign.cost,
                results=out,
            )
        )
        row = by_segment.setdefault(segment, [0, 0, 0, Decimal("0")])
        row[0] += 1
        row[1] += results.delivered
        row[2] += results.clicked
        row[3] += results.revenue_net
    segments = [
        SegmentAnswerOut(
            segment=name,
            campaigns=int(n),
            delivered=int(delivered),
            click_rate=(Decimal(clicked) / Decimal(delivered)).quantize(Decimal("0.0001"))
            if delivered
            else Decimal("0"),
            revenue_net=Decimal(revenue),
        )
        for name, (n, delivered, clicked, revenue) in by_segment.items()
    ]
    segments.sort(key=lambda s: (-s.revenue_net, -s.click_rate, s.segment))
    return PlanningOut(
        campaigns=shown,
        best_hours=[HourOut(weekday=d, hour=h, engagements=n) for d, h, n in top_hours(hours)],
        best_segments=segments,
    )
