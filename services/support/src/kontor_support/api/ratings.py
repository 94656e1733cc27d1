"""Customer satisfaction (issue 14, ADR 0044): the rating link's page and its comment form
(public: the signed link is the customer's proof), and the figures per agent and channel.

``GET /ratings/{token}?score=1..5`` records the score in one click and shows a thank-you
page with a comment form (``POST /ratings/{token}/comment``, form field ``comment``);
without ``score`` it shows the five choices. ``GET /ratings/summary?from=&to=`` counts
the ratings asked for in the period, overall, per agent and per channel;
``GET /ratings?from=&to=&agent=&channel=`` lists the answered ones with their comments.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from html import escape
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, Request, status
from fastapi.responses import HTMLResponse
from kontor_servicekit.apitypes import Instant, Page, PageOut, QueryInt, QueryMoment
from kontor_servicekit.auth import Principal, require_scope
from kontor_servicekit.clock import BERLIN
from kontor_servicekit.domain_errors import Invalid, Unavailable
from kontor_servicekit.errors import problem_responses
from kontor_servicekit.languages import preferred_language
from pydantic import BaseModel, ConfigDict, Field

from kontor_support.application.ratings import (
    LinkRefused,
    RatingLinks,
    check_link,
    comment_by_link,
    rate_by_link,
    rating_link,
    refused_or,
)
from kontor_support.context import Context
from kontor_support.domain.rating import MAX_COMMENT, Rating, RatingFigures, summarise
from kontor_support.domain.rating_texts import RatingTexts, rating_texts

router = APIRouter(tags=["ratings"])

Reader = Annotated[Principal, Depends(require_scope("support:read"))]
Token = Annotated[str, Path(min_length=1, max_length=1000)]
PageSize = Annotated[QueryInt, Query(ge=1, le=200)]
ChannelName = Literal["email", "chat", "phone", "social", "web"]

#: How far back the figures look when no period is given.
DEFAULT_DAYS = 30


def _links(ctx: Context) -> RatingLinks:
    if ctx.rating_links is None:
        raise Unavailable("ratings are not set up: no rating link secret, no privacy key")
    return ctx.rating_links


def _page(
    texts: RatingTexts, title: str, body: str, status_code: int = status.HTTP_200_OK
) -> HTMLResponse:
    return HTMLResponse(
        f'<!DOCTYPE html><html lang="{texts.language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>{body}</body></html>",
        status_code=status_code,
    )


def _refused(refused: LinkRefused, request: Request) -> HTMLResponse:
    """A link that does not admit says nothing of its language: the browser's, else German."""
    texts = rating_texts(preferred_language(request.headers.get("accept-language")))
    text = texts.link_gone if refused.status_code in (409, 410) else refused.reason
    return _page(texts, texts.page_title, f"<p>{escape(text)}</p>", refused.status_code)


def _choices(links: RatingLinks, token: str, texts: RatingTexts) -> str:
    items = "".join(
        f'<li><a href="{escape(rating_link(links, token, s))}">{escape(texts.scores[s])}</a></li>'
        for s in (5, 4, 3, 2, 1)
    )
    return f"<p>{escape(texts.question)}</p><ul>{items}</ul>"


def _thanks(rating: Rating, token: str, texts: RatingTexts) -> str:
    shown = texts.scores[rating.score] if rating.score is not None else ""
    return (
        f"<p>{escape(texts.thanks.format(score_words=shown, score=rating.score))}</p>"
        f'<form method="post" action="/ratings/{escape(token)}/comment">'
        f'<label for="comment">{escape(texts.comment_label)}</label><br>'
        f'<textarea id="comment" name="comment" maxlength="{MAX_COMMENT}" rows="5" cols="60">'
        f"{escape(rating.comment or '')}</textarea><br>"
        f'<button type="submit">{escape(texts.submit)}</button></form>'
    )


class FiguresOut(BaseModel):
    requested: int = Field(description="Customers asked to rate (tickets solved)")
    rated: int = Field(description="Of those, how many rated")
    response_rate: float | None = Field(description="rated / requested")
    average: float | None = Field(description="Average score, 1 (worst) to 5 (best)")
    satisfied_share: float | None = Field(description="CSAT: scores 4 and 5 among all given")
    scores: dict[str, int] = Field(description="How many gave each score, '1' to '5'")

    @classmethod
    def of(cls, figures: RatingFigures) -> FiguresOut:
        return cls(
            requested=figures.requested,
            rated=figures.rated,
            response_rate=figures.response_rate,
            average=figures.average,
            satisfied_share=figures.satisfied_share,
            scores={str(s): n for s, n in sorted(figures.scores.items())},
        )


class AgentFiguresOut(FiguresOut):
    agent: str


class ChannelFiguresOut(FiguresOut):
    channel: str


class PeriodOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    from_: Instant = Field(alias="from", serialization_alias="from")
    to: Instant


class SummaryOut(BaseModel):
    period: PeriodOut
    overall: FiguresOut
    by_agent: list[AgentFiguresOut]
    by_channel: list[ChannelFiguresOut]


class PeriodQuery:
    def __init__(
        self,
        from_: Annotated[
            QueryMoment | None,
            Query(alias="from", description="Asked from (a date: its Berlin day)"),
        ] = None,
        to: Annotated[
            QueryMoment | None, Query(description="Asked before (a date: through that day)")
        ] = None,
    ) -> None:
        self.from_, self.to = from_, to

    def bounds(self, now: datetime) -> tuple[datetime, datetime]:
        for name, value in (("from", self.from_), ("to", self.to)):
            if value is not None and not 2000 <= value.year <= 2100:  # before any arithmetic
                raise Invalid(
                    f"{name} must lie between 2000 and 2100", field=(name,), location="query"
                )
        until = _moment(self.to, end=True) if self.to is not None else now
        since = (
            _moment(self.from_, end=False)
            if self.from_ is not None
            else until - timedelta(days=DEFAULT_DAYS)
        )
        if since >= until:
            raise Invalid("to must come after from", field=("to",), location="query")
        return since, until


def _moment(value: datetime | date, *, end: bool) -> datetime:
    if isinstance(value, datetime):
        return value
    day = value + timedelta(days=1) if end else value
    return datetime.combine(day, time(), tzinfo=BERLIN)


Period = Annotated[PeriodQuery, Depends()]


@router.get(
    "/ratings/summary",
    responses=problem_responses(401, 403, 422, 503),
    summary="Customer satisfaction of the tickets solved in a period, per agent and channel",
    description="Counts the ratings asked for in [from, to) (default: the last 30 days). "
    "The agent is the ticket's assignee when it was solved, else who solved it.",
)
async def rating_summary(ctx: Context, _: Reader, period: Period) -> SummaryOut:
    since, until = period.bounds(ctx.clock())
    summary = summarise(await ctx.ratings.counts(since, until))
    return SummaryOut(
        period=PeriodOut(from_=since, to=until),
        overall=FiguresOut.of(summary.overall),
        by_agent=[
            AgentFiguresOut(agent=agent, **FiguresOut.of(f).model_dump())
            for agent, f in summary.by_agent.items()
        ],
        by_channel=[
            ChannelFiguresOut(channel=channel, **FiguresOut.of(f).model_dump())
            for channel, f in summary.by_channel.items()
        ],
    )


class RatingOut(BaseModel):
    ticket_id: str
    agent: str
    channel: str
    score: int | None
    comment: str | None
    requested_at: Instant
    rated_at: Instant | None

    @classmethod
    def of(cls, r: Rating) -> RatingOut:
        return cls(
            ticket_id=r.ticket_id,
            agent=r.agent,
            channel=r.channel,
            score=r.score,
            comment=r.comment,
            requested_at=r.requested_at,
            rated_at=r.rated_at,
        )


class RatingPage(PageOut[RatingOut]):
    """A page of ratings (the kit's one list shape)."""


@router.get(
    "/ratings",
    responses=problem_responses(401, 403, 422, 503),
    summary="The ratings customers gave, with their comments, newest first",
)
async def list_ratings(
    ctx: Context,
    _: Reader,
    period: Period,
    agent: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    channel: Annotated[ChannelName | None, Query()] = None,
    page: Page = 1,
    page_size: PageSize = 50,
) -> RatingPage:
    since, until = period.bounds(ctx.clock())
    found = await ctx.ratings.page(
        since, until, agent=agent, channel=channel, page=page, page_size=page_size
    )
    return RatingPage(
        items=[RatingOut.of(r) for r in found.items],
        page=page,
        page_size=page_size,
        total=found.total,
    )


# after /ratings/summary, which the token's path would match too
# a page for the browser that opened the mailed link (hidden, as orders' link pages)
@router.get("/ratings/{token}", include_in_schema=False)
async def rating_page(
    ctx: Context,
    request: Request,
    token: Token,
    score: Annotated[QueryInt | None, Query(ge=1, le=5)] = None,
) -> HTMLResponse:
    """In the language the link was mailed in (ADR 0122)."""
    links = _links(ctx)
    if score is None:  # the mail's links carry a score; a bare link offers them
        known = await refused_or(check_link(links, token, now=ctx.clock()))
        if isinstance(known, LinkRefused):
            return _refused(known, request)
        texts = rating_texts(known.language)
        return _page(texts, texts.page_title, _choices(links, token, texts))
    rating = await refused_or(rate_by_link(ctx.transactor, links, token, score, ctx.clock))
    if isinstance(rating, LinkRefused):
        return _refused(rating, request)
    texts = rating_texts(rating.language)
    return _page(texts, texts.page_title, _thanks(rating, token, texts))


# the form post of the rating page: it answers a page, not a model
@router.post("/ratings/{token}/comment", include_in_schema=False)
async def rating_comment(
    ctx: Context,
    request: Request,
    token: Token,
    comment: Annotated[str, Form(max_length=MAX_COMMENT)],
) -> HTMLResponse:
    links = _links(ctx)
    rating = await refused_or(comment_by_link(ctx.transactor, links, token, comment, ctx.clock))
    if isinstance(rating, LinkRefused):
        return _refused(rating, request)
    texts = rating_texts(rating.language)
    return _page(texts, texts.comment_title, _thanks(rating, token, texts))
