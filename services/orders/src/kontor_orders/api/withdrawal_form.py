"""The public withdrawal page (Vertrag widerrufen): plain HTML forms, no JavaScript.

``GET /withdrawals`` (step 1: order number and e-mail, button "Vertrag widerrufen") ->
``POST /withdrawals/page/lines`` (step 2: the lines by product name, a quantity each) ->
``POST /withdrawals/page/review`` (step 3: what will be declared, button "Widerruf
bestätigen") -> ``POST /withdrawals/page/{id}/confirm`` (declares, then 303 to the
receipt) -> ``GET /withdrawals/{id}/receipt`` (content and time of receipt; a second
click shows the same one) and ``GET /withdrawals/{id}/receipt.txt`` (to keep).

German or English by the browser's ``Accept-Language`` (or ``lang``); the form posts are
rate-limited like the JSON routes. The JSON routes (``POST /withdrawals``, ``POST
/withdrawals/{id}/confirmation``) are in ``returns.py`` and unchanged; these pages are
for people, not for integrations, so only ``GET /withdrawals`` is in the OpenAPI.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from kontor_servicekit.browser import html_page
from kontor_servicekit.domain_errors import RateLimited

from kontor_orders.api.returns import WITHDRAW_TAG
from kontor_orders.api.withdrawal_pages import (
    STYLESHEET,
    Pages,
    language_of,
    refusal_text,
    status_of,
)
from kontor_orders.application.withdrawal_form import (
    ShownWithdrawal,
    choose_lines,
    declare,
    lines_to_choose,
)
from kontor_orders.context import Context

router = APIRouter(tags=[WITHDRAW_TAG])

WithdrawalId = Annotated[str, Path(min_length=1, max_length=64)]
Lang = Annotated[str | None, Query(max_length=5, description="de or en; default: the browser's")]

#: The longest value a form field may have (an e-mail address); longer input is cut.
MAX_FIELD = 254


def pages(request: Request, lang: Lang = None) -> Pages:
    """The pages in the customer's language, linking under the service's root path."""
    return Pages(
        language_of(request.headers.get("accept-language"), lang),
        str(request.scope.get("root_path", "")),
    )


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form's text fields (a browser without JavaScript posts them)."""
    form = await request.form()
    return {key: str(value)[:MAX_FIELD] for key, value in form.items() if isinstance(value, str)}


async def wait_s(request: Request, ctx: Context) -> int | None:
    """Seconds to wait before the next form post from this client, or None."""
    client = request.client.host if request.client else "unknown"
    return ctx.withdrawal_limiter.retry_after(client)


Shown = Annotated[Pages, Depends(pages)]
Fields = Annotated[dict[str, str], Depends(form_fields)]
Wait = Annotated[int | None, Depends(wait_s)]


def html(page: str, status_code: int = status.HTTP_200_OK) -> HTMLResponse:
    """The page with the kit's page policy: same-origin stylesheet and form posts only,
    no script at all (the pages have none, so no hash is allowed either)."""
    return html_page(page, status_code=status_code)


def too_many(shown: Pages, wait: int) -> HTMLResponse:
    error = RateLimited("too many withdrawal requests", retry_after_s=wait)
    response = html(shown.identify(problem=refusal_text(error, shown.lang)), 429)
    response.headers["Retry-After"] = str(wait)
    return response


def posted_pages(request: Request, fields: Fields) -> Pages:
    """The pages in the language the form was shown in (its hidden ``lang``)."""
    return pages(request, fields.get("lang"))


Posted = Annotated[Pages, Depends(posted_pages)]


def identity(fields: dict[str, str]) -> tuple[str, str]:
    """The order number and e-mail address as typed."""
    return fields.get("order_number", ""), fields.get("email", "")


@router.get(
    "/withdrawals",
    response_class=HTMLResponse,
    summary="Vertrag widerrufen: the withdrawal page (HTML, works without JavaScript)",
    description="Step 1 of the page: order number and e-mail address. German or English "
    "by `Accept-Language` or `lang`. The page posts plain HTML forms to `/withdrawals/page/*` "
    "(for browsers, not in this document); integrations use the two POST routes below.",
)
async def withdrawal_page(shown: Shown) -> HTMLResponse:
    return html(shown.identify())


@router.get("/withdrawals/page/withdrawal.css", include_in_schema=False)
async def withdrawal_stylesheet() -> Response:
    return Response(
        STYLESHEET,
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.post("/withdrawals/page/lines", include_in_schema=False)
async def withdrawal_lines(ctx: Context, shown: Posted, fields: Fields, wait: Wait) -> HTMLResponse:
    if wait is not None:
        return too_many(shown, wait)
    number, email = identity(fields)
    found = await lines_to_choose(ctx.transactor, order_number=number, email=email, clock=ctx.clock)
    if isinstance(found, ShownWithdrawal):
        return html(shown.choose(found, email=email))
    problem = refusal_text(found.error, shown.lang)
    return html(
        shown.identify(order_number=number, email=email, problem=problem), status_of(found.error)
    )


@router.post("/withdrawals/page/review", include_in_schema=False)
async def withdrawal_review(
    ctx: Context, shown: Posted, fields: Fields, wait: Wait
) -> HTMLResponse:
    if wait is not None:
        return too_many(shown, wait)
    number, email = identity(fields)
    pending = await choose_lines(
        ctx.transactor, order_number=number, email=email, fields=fields, clock=ctx.clock
    )
    if isinstance(pending, ShownWithdrawal):
        return html(shown.review(pending))
    problem = refusal_text(pending.error, shown.lang, choosing=True)
    code = status_of(pending.error)
    if pending.choices is not None:
        chosen = {x.line_no: 0 for x in pending.choices.lines} | _quantities(fields)
        return html(
            shown.choose(pending.choices, email=email, chosen=chosen, problem=problem), code
        )
    return html(shown.identify(order_number=number, email=email, problem=problem), code)


def _quantities(fields: dict[str, str]) -> dict[int, int]:
    """What the customer had entered, to show it again with the problem."""
    return {
        int(name.removeprefix("quantity-")): int(value)
        for name, value in fields.items()
        if name.startswith("quantity-") and name[9:].isdigit() and value.strip().isdigit()
    }


@router.post("/withdrawals/page/{withdrawal_id}/confirm", include_in_schema=False)
async def withdrawal_confirm(
    ctx: Context, shown: Posted, wait: Wait, withdrawal_id: WithdrawalId
) -> Response:
    if wait is not None:
        return too_many(shown, wait)
    declared = await declare(ctx.transactor, withdrawal_id, ctx.clock, language=shown.lang)
    if isinstance(declared, ShownWithdrawal):
        # Post/Redirect/Get: a reload shows the receipt instead of posting again
        receipt = f"{shown.base}/withdrawals/{withdrawal_id}/receipt?lang={shown.lang}"
        return RedirectResponse(receipt, status_code=status.HTTP_303_SEE_OTHER)
    return html(shown.refused(refusal_text(declared.error, shown.lang)), status_of(declared.error))


@router.get("/withdrawals/{withdrawal_id}/receipt", include_in_schema=False)
async def withdrawal_receipt(
    ctx: Context, shown: Shown, withdrawal_id: WithdrawalId
) -> HTMLResponse:
    found = await ctx.returns.withdrawal(withdrawal_id)
    if found is None:
        return html(shown.refused(shown.t["unknown_withdrawal"]), status.HTTP_404_NOT_FOUND)
    return html(shown.receipt(found))


@router.get("/withdrawals/{withdrawal_id}/receipt.txt", include_in_schema=False)
async def withdrawal_receipt_text(
    ctx: Context, shown: Shown, withdrawal_id: WithdrawalId
) -> PlainTextResponse:
    found = await ctx.returns.withdrawal(withdrawal_id)
    if found is None or found.received_at is None:
        return PlainTextResponse(shown.t["unknown_withdrawal"], status.HTTP_404_NOT_FOUND)
    filename = f"Widerruf-{found.order_number}.txt"
    return PlainTextResponse(
        shown.receipt_text(found),
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
