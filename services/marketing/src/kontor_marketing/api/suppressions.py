"""Suppressed addresses: no marketing mail goes to them (ADR 0055).

- ``GET /suppressions`` (``marketing:read``): newest first; ``?email=`` one address.
- ``DELETE /suppressions/{email}`` (``marketing:write``): mail may go there again (the
  person fixed their mailbox and subscribed anew); answers what was lifted.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from kontor_servicekit.apitypes import Instant, Page, PageOut, QueryInt
from kontor_servicekit.auth import require_scope
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel

from kontor_marketing.application.feedback import lift_suppression
from kontor_marketing.context import Context
from kontor_marketing.domain.consent import normalise_email
from kontor_marketing.domain.feedback import Suppression

router = APIRouter(tags=["suppressions"])

Email = Annotated[str, Path(min_length=3, max_length=254)]


class SuppressionOut(BaseModel):
    email: str
    reason: Literal["hard_bounce", "complaint"]
    at: Instant
    status: str
    """The relay's status (``5.1.1``), or the complaint's feedback type (``abuse``)."""
    mail_id: str | None

    @classmethod
    def of(cls, suppression: Suppression) -> SuppressionOut:
        return cls(
            email=suppression.email,
            reason=suppression.reason,
            at=suppression.at,
            status=suppression.status,
            mail_id=suppression.mail_id,
        )


class SuppressionPage(PageOut[SuppressionOut]):
    pass


@router.get(
    "/suppressions",
    response_model=SuppressionPage,
    dependencies=[Depends(require_scope("marketing:read"))],
    responses=problem_responses(401, 403, 422),
    summary="Addresses no mail goes to after a hard bounce or a complaint, newest first",
)
async def list_suppressions(
    ctx: Context,
    email: Annotated[str | None, Query(min_length=3, max_length=254)] = None,
    page: Page = 1,
    page_size: Annotated[QueryInt, Query(ge=1, le=200)] = 50,
) -> SuppressionPage:
    if email is not None:
        one = await ctx.queries.suppression(normalise_email(email, location="query"))
        items = [] if one is None else [SuppressionOut.of(one)]
        return SuppressionPage(items=items, page=1, page_size=page_size, total=len(items))
    found, total = await ctx.queries.suppression_page(page=page, page_size=page_size)
    return SuppressionPage(
        items=[SuppressionOut.of(s) for s in found], page=page, page_size=page_size, total=total
    )


@router.delete(
    "/suppressions/{email}",
    response_model=SuppressionOut,
    dependencies=[Depends(require_scope("marketing:write"))],
    responses=problem_responses(401, 403, 404, 422),
    summary="Lift a suppression: mail may go to the address again",
)
async def delete_suppression(ctx: Context, email: Email) -> Response:
    address = normalise_email(email, location="path")
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: lift_suppression(transactor, address),
        present=SuppressionOut.of,
    )
