"""The public newsletter routes (no token, rate-limited per client address) and the
consent lookup for staff.

- ``POST /newsletter/subscriptions``: asks for topics; 202 and a confirmation mail.
  The answer is the same for a new, a pending and a confirmed address.
- ``GET /newsletter/confirmations/{token}``: the link of the confirmation mail; a plain
  GET from a mail client confirms (the double opt-in).
- ``POST /newsletter/unsubscribe/{token}``: the ``List-Unsubscribe`` URL, RFC 8058
  one-click (body ``List-Unsubscribe=One-Click``); ``GET`` shows the page with a button
  for everything and one per topic, whose forms post to ``.../page``.
- ``GET /consents?email=`` (``marketing:read``): status, topics and evidence.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.responses import HTMLResponse, Response
from kontor_servicekit.apitypes import Instant
from kontor_servicekit.auth import require_scope
from kontor_servicekit.browser import html_page
from kontor_servicekit.domain_errors import NotFound, RateLimited
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, ConfigDict, Field

from kontor_marketing.api.pages import (
    confirmed_page,
    language_of,
    refused_page,
    unsubscribe_page,
    unsubscribed_page,
)
from kontor_marketing.application.consent import (
    Subscribe,
    confirm_from_mail,
    read_unsubscribe_link,
    subscribe,
    unsubscribe,
    unsubscribe_from_page,
)
from kontor_marketing.context import Context
from kontor_marketing.domain.consent import TOPICS, Consent, normalise_email

router = APIRouter(tags=["newsletter"])

Token = Annotated[str, Path(min_length=1, max_length=1000, pattern=r"^[A-Za-z0-9_.%-]+$")]
Topic = Literal["news", "offers", "back_in_stock"]
assert set(Topic.__args__) == set(TOPICS)  # type: ignore[attr-defined]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


async def rate_limited(request: Request, ctx: Context) -> None:
    """The public routes admit so many requests per client address and minute."""
    wait = ctx.public_limiter.retry_after(client_ip(request) or "unknown")
    if wait is not None:
        raise RateLimited(
            f"Too many newsletter requests from this address; try again in {wait} s.",
            retry_after_s=wait,
        )


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"email": "anna@example.de", "topics": ["news"], "locale": "de"}]
        },
    )
    email: str = Field(min_length=3, max_length=254)
    topics: list[Topic] = Field(min_length=1, max_length=len(TOPICS))
    locale: Literal["de", "en"] = "de"
    source: str = Field(
        default="newsletter_form",
        pattern=r"^[a-z0-9_]{1,40}$",
        description="Where the form is (kept in the evidence), e.g. newsletter_form, checkout",
    )


class SubscriptionAccepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    message: str = Field(
        description="The same answer whether the address was new, pending or confirmed"
    )


@router.post(
    "/newsletter/subscriptions",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SubscriptionAccepted,
    dependencies=[Depends(rate_limited)],
    responses=problem_responses(422, 429, 503),
    summary="Subscribe to newsletter topics (double opt-in: sends a confirmation mail)",
    description="Public, no token; 10 requests per minute and client address (429). "
    "Nothing is sent to the address but the confirmation mail until its link is opened.",
)
async def post_subscription(request: Request, ctx: Context, body: SubscriptionIn) -> Response:
    links = ctx.consent_links()
    command = Subscribe(
        email=body.email,
        topics=tuple(body.topics),
        locale=body.locale,
        source=body.source,
        ip=client_ip(request),
    )
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: subscribe(
            transactor, command, links=links, imprint=ctx.imprint, clock=ctx.clock
        ),
        present=lambda _: SubscriptionAccepted(
            message="If the address can receive mail, a confirmation link is on its way."
        ),
        status_code=status.HTTP_202_ACCEPTED,
    )


@router.get(
    "/newsletter/confirmations/{token}",
    response_class=HTMLResponse,
    dependencies=[Depends(rate_limited)],
    responses={
        400: {"description": "Forged or malformed link"},
        409: {"description": "Replaced by a newer request, or withdrawn since"},
        410: {"description": "Expired"},
        **problem_responses(429),
    },
    summary="The confirmation link of the mail: confirms the subscription (double opt-in)",
)
async def get_confirmation(request: Request, ctx: Context, token: Token) -> HTMLResponse:
    lang = language_of(request.headers.get("accept-language"))
    answer = await confirm_from_mail(
        ctx.transactor,
        token,
        ip=client_ip(request),
        links=ctx.consent_links(),
        clock=ctx.clock,
        imprint=ctx.imprint,
    )
    if answer.outcome is None:
        return html_page(refused_page(lang, answer.refusal or ""), status_code=answer.status)
    consent = answer.outcome.consent
    return html_page(confirmed_page(lang, consent.confirmed_topics() if consent else ()))


class UnsubscribedOut(BaseModel):
    unsubscribed: list[str] = Field(description="Topics withdrawn by this request")


@router.post(
    "/newsletter/unsubscribe/{token}",
    response_model=UnsubscribedOut,
    dependencies=[Depends(rate_limited)],
    responses=problem_responses(422, 429),
    summary="One-click unsubscribe (RFC 8058): the List-Unsubscribe URL of every mail",
    description="A mail client posts `List-Unsubscribe=One-Click` "
    "(application/x-www-form-urlencoded); the signed link is the proof, so any POST to "
    "it unsubscribes, at once, from the topics it names (or every topic).",
)
async def post_one_click(request: Request, ctx: Context, token: Token) -> Response:
    links = ctx.consent_links()
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: unsubscribe(
            transactor,
            token,
            source="list_unsubscribe_one_click",
            ip=client_ip(request),
            links=links,
            clock=ctx.clock,
        ),
        present=lambda outcome: UnsubscribedOut(unsubscribed=list(outcome.topics)),
    )


@router.get(
    "/newsletter/unsubscribe/{token}",
    response_class=HTMLResponse,
    dependencies=[Depends(rate_limited)],
    responses={400: {"description": "Forged or malformed link"}, **problem_responses(429)},
    summary="The unsubscribe page: everything, or one topic at a time",
)
async def get_unsubscribe(request: Request, ctx: Context, token: Token) -> HTMLResponse:
    lang = language_of(request.headers.get("accept-language"))
    answer = read_unsubscribe_link(ctx.consent_links(), token, ctx.clock)
    if answer.outcome is None:
        return html_page(refused_page(lang, answer.refusal or ""), status_code=answer.status)
    consent = await ctx.queries.consent(answer.outcome.email)
    topics = consent.confirmed_topics() if consent else ()
    shown = [t for t in topics if not answer.outcome.topics or t in answer.outcome.topics]
    action = f"{request.scope.get('root_path', '')}/newsletter/unsubscribe/{token}/page"
    return html_page(unsubscribe_page(lang, answer.outcome.email, shown, action))


@router.post("/newsletter/unsubscribe/{token}/page", include_in_schema=False)
async def post_unsubscribe_page(request: Request, ctx: Context, token: Token) -> HTMLResponse:
    lang = language_of(request.headers.get("accept-language"))
    form = await request.form()
    chosen = tuple(str(v) for v in form.getlist("topic") if str(v) in TOPICS)
    answer = await unsubscribe_from_page(
        ctx.transactor,
        token,
        topics=chosen or None,
        ip=client_ip(request),
        links=ctx.consent_links(),
        clock=ctx.clock,
    )
    if answer.outcome is None:
        return html_page(refused_page(lang, answer.refusal or ""), status_code=answer.status)
    return html_page(unsubscribed_page(lang, answer.outcome.topics))


# ------------------------------------------------------------------------- staff


class TopicOut(BaseModel):
    topic: str
    status: Literal["pending", "confirmed", "unsubscribed"]
    requested_at: Instant
    confirmed_at: Instant | None
    unsubscribed_at: Instant | None


class EvidenceOut(BaseModel):
    kind: Literal["requested", "confirmed", "unsubscribed"]
    at: Instant
    topics: list[str]
    source: str
    ip: str | None = Field(description="Truncated: IPv4 to its /24, IPv6 to its /48")
    text: str | None = Field(description="What the person agreed to (requests)")
    text_version: str | None


class ConsentOut(BaseModel):
    email: str
    status: Literal["pending", "confirmed", "unsubscribed"]
    locale: str
    topics: list[TopicOut]
    evidence: list[EvidenceOut]

    @classmethod
    def of(cls, consent: Consent) -> ConsentOut:
        return cls(
            email=consent.email,
            status=consent.status,
            locale=consent.locale,
            topics=[
                TopicOut(
                    topic=name,
                    status=t.status,
                    requested_at=t.requested_at,
                    confirmed_at=t.confirmed_at,
                    unsubscribed_at=t.unsubscribed_at,
                )
                for name, t in sorted(consent.topics.items())
            ],
            evidence=[
                EvidenceOut(
                    kind=e.kind,
                    at=e.at,
                    topics=list(e.topics),
                    source=e.source,
                    ip=e.ip,
                    text=e.text,
                    text_version=e.text_version,
                )
                for e in consent.evidence
            ],
        )


@router.get(
    "/consents",
    response_model=ConsentOut,
    dependencies=[Depends(require_scope("marketing:read"))],
    responses=problem_responses(401, 403, 404, 422),
    summary="A person's newsletter consent: status, topics and the evidence",
    tags=["consent"],
)
async def get_consent(
    ctx: Context, email: Annotated[str, Query(min_length=3, max_length=254)]
) -> ConsentOut:
    address = normalise_email(email, location="query")
    consent = await ctx.queries.consent(address)
    if consent is None:
        raise NotFound("consent", address, message="no consent of this e-mail address")
    return ConsentOut.of(consent)
