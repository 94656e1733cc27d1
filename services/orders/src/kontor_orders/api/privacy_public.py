"""A customer's own privacy request (issue 13): asked by e-mail, confirmed by a signed link.

``POST /privacy/public-requests`` (no token, rate-limited) mails the link and answers 202
whatever the address; ``GET /privacy/confirmations/{token}`` shows what the link asks for
with one button (a GET changes nothing: mail scanners open links);
``POST /privacy/confirmations/{token}/confirm`` (its form) opens the request, once. 503 without
the privacy master key (the link key is derived from it).
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import HTMLResponse, JSONResponse
from kontor_contracts.events.common import Email
from kontor_servicekit.domain_errors import RateLimited, Unavailable
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, ConfigDict, Field

from kontor_orders.application.privacy_links import (
    LinkRefused,
    PublicRequests,
    ask_by_mail,
    confirm_by_link,
    link_page,
)
from kontor_orders.context import Context

router = APIRouter(tags=["privacy"])

Token = Annotated[str, Path(min_length=1, max_length=1000)]
KINDS = {
    "export": "eine Kopie Ihrer Daten (Art. 15 DSGVO)",
    "erasure": "die Löschung Ihrer Daten (Art. 17 DSGVO)",
}


class PublicRequestIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"kind": "export", "email": "anna@example.de"}]},
    )
    kind: Literal["export", "erasure"]
    email: Email = Field(description="Where the confirmation link is mailed")


def _public(ctx: Context) -> PublicRequests:
    if ctx.public_privacy is None:
        raise Unavailable("privacy requests are not set up in this service")
    return ctx.public_privacy


def _page(title: str, body: str, status_code: int = status.HTTP_200_OK) -> HTMLResponse:
    return HTMLResponse(
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>{body}</body></html>",
        status_code=status_code,
    )


def _refused(refused: LinkRefused) -> HTMLResponse:
    return _page(
        "Dieser Link gilt nicht", f"<p>{escape(str(refused.error))}</p>", refused.status_code
    )


@router.post(
    "/privacy/public-requests",
    status_code=202,
    responses=problem_responses(422, 429, 503),
    summary="A customer asks for a copy or the erasure of their data: a link is mailed",
    description="Always 202 (nobody learns whether the address is known); the link in the "
    "mail confirms the request. Rate-limited per client address.",
)
async def post_public_request(ctx: Context, request: Request, body: PublicRequestIn) -> Response:
    public = _public(ctx)
    client = request.client.host if request.client else "unknown"
    if ctx.privacy_limiter is not None:
        wait = ctx.privacy_limiter.retry_after(client)
        if wait is not None:
            raise RateLimited("too many privacy requests from this address", retry_after_s=wait)
    await ask_by_mail(public, kind=body.kind, email=body.email, clock=ctx.clock)
    return JSONResponse({"status": "mailed"}, status_code=202)


# a page for the browser that opened the mailed link (hidden, as the withdrawal pages)
@router.get("/privacy/confirmations/{token}", include_in_schema=False)
async def confirmation_page(ctx: Context, token: Token) -> HTMLResponse:
    asked = link_page(_public(ctx), token, ctx.clock)
    if isinstance(asked, LinkRefused):
        return _refused(asked)
    return _page(
        "Ihre Datenschutz-Anfrage",
        f"<p>Für {escape(asked['email'])}: {escape(KINDS[asked['kind']])}.</p>"
        f'<form method="post" action="/privacy/confirmations/{escape(token)}/confirm">'
        '<button type="submit">Anfrage bestätigen</button></form>',
    )


# the form post of the link's page: it answers a page, not a model (as the withdrawal form)
@router.post("/privacy/confirmations/{token}/confirm", include_in_schema=False)
async def confirm(ctx: Context, token: Token) -> HTMLResponse:
    opened = await confirm_by_link(ctx.privacy, _public(ctx), token, ctx.clock)
    if isinstance(opened, LinkRefused):
        return _refused(opened)
    return _page(
        "Ihre Anfrage ist eingegangen",
        f"<p>Nummer {escape(opened.id)}. Wir melden uns bei Ihnen, sobald alle Teile "
        "unseres Hauses geantwortet haben.</p>",
    )
