"""Profiles and segments (``marketing:read`` to look, ``marketing:write`` to save).

A segment's rule: ``{"all": [...]}`` (AND) or ``{"any": [...]}`` (OR), nested up to 5
deep, conditions ``{"field": "orders", "op": "gte", "value": 2}``. Fields: orders,
revenue (net of cancellations and returns), aov, return_rate, cancelled,
days_since_last_order, rfm_r, rfm_f, rfm_m (1-5), rfm ("545"), open_cart,
open_cart_value, consent (none, pending, confirmed, unsubscribed), favourite_category,
tickets, open_tickets, days_since_last_ticket (support's tickets: ``open_tickets > 0``
keeps someone with an unsettled concern out of a campaign).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, status
from fastapi.responses import Response
from kontor_servicekit.apitypes import Count, Instant, MoneyAmount, Page, PageOut, QueryInt
from kontor_servicekit.auth import require_scope
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from kontor_marketing.application.profiles import create_segment, preview_segment, set_entry_mail
from kontor_marketing.context import Context
from kontor_marketing.domain.consent import normalise_email
from kontor_marketing.domain.profile import Profile, Segment
from kontor_marketing.domain.segment_flows import MAX_DELAY_MINUTES, EntryMail

router = APIRouter(tags=["profiles and segments"])

RULE_EXAMPLE: dict[str, JsonValue] = {
    "all": [
        {"field": "orders", "op": "gte", "value": 2},
        {
            "any": [
                {"field": "days_since_last_order", "op": "gt", "value": 90},
                {"field": "return_rate", "op": "lt", "value": "0.2"},
            ]
        },
    ]
}


class ProfileOut(BaseModel):
    email: str
    customer_id: str | None
    orders: int = Field(description="Placed and neither cancelled nor rejected")
    revenue: MoneyAmount = Field(description="Gross of those orders less refunds (returns)")
    aov: MoneyAmount = Field(description="Average order value, net of returns")
    return_rate: Decimal = Field(description="Share of orders with a return")
    cancelled: int
    first_order_at: Instant | None
    last_order_at: Instant | None
    days_since_last_order: int | None
    last_activity_at: Instant | None
    open_cart: bool
    open_cart_value: MoneyAmount | None
    rfm: str = Field(description="Recency, frequency, monetary 1-5 each; 000: no order")
    consent: str
    segments: list[str]
    favourite_categories: list[str] = Field(
        description="The categories bought most (pieces, orders kept), most first; up to 3"
    )
    tickets: int = Field(description="Support tickets of the person's, all")
    open_tickets: int = Field(
        description="Of those, not resolved or closed (open, in progress, waiting for them)"
    )
    last_ticket_at: Instant | None = Field(description="When the newest ticket was opened")
    days_since_last_ticket: int | None

    @classmethod
    def of(cls, profile: Profile, now: datetime) -> ProfileOut:
        figures = profile.figures(now)
        keep = {k: v for k, v in figures.items() if k in cls.model_fields}
        return cls(
            email=profile.email,
            customer_id=profile.customer_id,
            segments=list(profile.segments),
            favourite_categories=profile.favourite_categories(),
            **keep,
        )


@router.get(
    "/profiles/{email}",
    response_model=ProfileOut,
    dependencies=[Depends(require_scope("marketing:read"))],
    responses=problem_responses(401, 403, 404, 422),
    summary="A customer as the events describe them: RFM, revenue net of returns, segments",
)
async def get_profile(
    ctx: Context, email: Annotated[str, Path(min_length=3, max_length=254)]
) -> ProfileOut:
    address = normalise_email(email, location="path")
    profile = await ctx.queries.profile(address)
    if profile is None:
        raise NotFound("profile", address, message="no profile of this e-mail address")
    return ProfileOut.of(profile, ctx.clock())


class RuleIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"rule": RULE_EXAMPLE}]}
    )
    rule: dict[str, Any] = Field(description="all/any groups of field-op-value conditions")


class SegmentIn(RuleIn):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Stammkunden", "rule": RULE_EXAMPLE}]},
    )
    name: str = Field(min_length=1, max_length=100)


class PreviewOut(BaseModel):
    size: int
    sample: list[str] = Field(description="Up to 10 members, alphabetically")


class EntryMailIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subject": "Danke, {{ name }}!",
                    "text": "Sie gehören jetzt zu unseren Stammkunden: 10 % mit STAMM10.",
                    "topic": "offers",
                    "delay_minutes": 60,
                }
            ]
        },
    )
    subject: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=100_000)
    html: str | None = Field(default=None, max_length=500_000)
    topic: Literal["news", "offers", "back_in_stock"]
    delay_minutes: Count = Field(default=0, ge=0, le=MAX_DELAY_MINUTES)


class EntryMailOut(BaseModel):
    subject: str
    text: str
    html: str | None
    topic: str
    delay_minutes: int


class SegmentOut(BaseModel):
    id: str
    name: str
    rule: dict[str, Any]
    size: int = Field(description="Members now (kept live as events arrive)")
    created_at: Instant
    entry_mail: EntryMailOut | None = Field(
        default=None, description='Sent to whoever enters the segment ("entered segment" flow)'
    )

    @classmethod
    def of(cls, s: Segment) -> SegmentOut:
        entry = s.entry_mail
        return cls(
            id=s.id,
            name=s.name,
            rule=s.rule,
            size=s.size,
            created_at=s.created_at,
            entry_mail=None
            if entry is None
            else EntryMailOut(
                subject=entry.subject,
                text=entry.text,
                html=entry.html,
                topic=entry.topic,
                delay_minutes=entry.delay_minutes,
            ),
        )


class SegmentPage(PageOut[SegmentOut]):
    pass


class MemberPage(PageOut[str]):
    pass


@router.post(
    "/segments/preview",
    response_model=PreviewOut,
    dependencies=[Depends(require_scope("marketing:read"))],
    responses=problem_responses(401, 403, 422),
    summary="How many profiles a rule selects now (nothing is saved)",
)
async def post_preview(ctx: Context, body: RuleIn) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: preview_segment(transactor, body.rule, clock=ctx.clock),
        present=lambda preview: PreviewOut(size=preview.size, sample=preview.sample),
    )


@router.post(
    "/segments",
    status_code=status.HTTP_201_CREATED,
    response_model=SegmentOut,
    dependencies=[Depends(require_scope("marketing:write"))],
    responses=problem_responses(401, 403, 422),
    summary="Save a segment; its membership is decided now and kept live",
)
async def post_segment(ctx: Context, body: SegmentIn) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: create_segment(transactor, body.name, body.rule, clock=ctx.clock),
        present=SegmentOut.of,
        status_code=status.HTTP_201_CREATED,
    )


@router.get(
    "/segments",
    response_model=SegmentPage,
    dependencies=[Depends(require_scope("marketing:read"))],
    responses=problem_responses(401, 403, 422),
    summary="Segments with their live size",
)
async def list_segments(
    ctx: Context, page: Page = 1, page_size: Annotated[QueryInt, Query(ge=1, le=200)] = 50
) -> SegmentPage:
    segments, total = await ctx.queries.segment_page(page=page, page_size=page_size)
    return SegmentPage(
        items=[SegmentOut.of(s) for s in segments],
        page=page,
        page_size=page_size,
        total=total,
    )


@router.put(
    "/segments/{segment_id}/entry-mail",
    response_model=SegmentOut,
    dependencies=[Depends(require_scope("marketing:write"))],
    responses=problem_responses(401, 403, 404, 422),
    summary='"Entered segment" as a trigger: the mail whoever enters the segment from now on gets',
)
async def put_entry_mail(
    ctx: Context, segment_id: Annotated[str, Path(min_length=1, max_length=64)], body: EntryMailIn
) -> Response:
    mail = EntryMail(
        subject=body.subject,
        text=body.text,
        topic=body.topic,
        delay_minutes=body.delay_minutes,
        html=body.html,
    )
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: set_entry_mail(transactor, segment_id, mail),
        present=SegmentOut.of,
    )


@router.get(
    "/segments/{segment_id}/members",
    response_model=MemberPage,
    dependencies=[Depends(require_scope("marketing:read"))],
    responses=problem_responses(401, 403, 422),
    summary="The e-mail addresses in a segment now",
)
async def list_members(
    ctx: Context,
    segment_id: Annotated[str, Path(min_length=1, max_length=64)],
    page: Page = 1,
    page_size: Annotated[QueryInt, Query(ge=1, le=500)] = 100,
) -> MemberPage:
    members, total = await ctx.queries.members(segment_id, page=page, page_size=page_size)
    return MemberPage(items=members, page=page, page_size=page_size, total=total)
