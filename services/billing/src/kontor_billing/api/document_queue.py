"""HTTP routes of the documents that wait: invoices refused by the e-invoice rules (or
waiting for the seller's data) before a number was taken (ADR 0025)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from kontor_servicekit.apitypes import Instant, Page, PageOut, QueryBool
from kontor_servicekit.auth import require_scope
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, Field

from kontor_billing.api.invoices import PageSize
from kontor_billing.application.waiting import WAITING_BATCH, retry_waiting
from kontor_billing.context import Context
from kontor_billing.domain.order import BilledOrder

router = APIRouter(tags=["documents"])


class WaitingOut(BaseModel):
    order_id: str
    order_number: str | None
    kind: str = Field(default="invoice", description="What waits: the order's invoice")
    number: None = Field(default=None, description="None: no number is taken while it waits")
    customer_email: str | None
    buyer_name: str | None
    buyer_reference: str | None = Field(description="Leitweg-ID: an XRechnung is due")
    due_since: Instant | None = Field(description="Confirmed (or shipped) at: since when due")
    reason: str
    rule_ids: list[str] = Field(description="The e-invoice rules its document broke")

    @classmethod
    def of(cls, order: BilledOrder) -> WaitingOut:
        placed = order.placed
        due: datetime | None = order.confirmed_at or order.shipped_at
        return cls(
            order_id=order.order_id,
            order_number=placed.order_number if placed else None,
            customer_email=placed.buyer.email if placed else None,
            buyer_name=placed.buyer.name if placed else None,
            buyer_reference=placed.buyer.buyer_reference if placed else None,
            due_since=due,
            reason=order.waiting or "",
            rule_ids=order.rule_ids,
        )


class WaitingPage(PageOut[WaitingOut]):
    pass


class RetryOut(BaseModel):
    issued: list[str] = Field(description="The numbers of the invoices issued now")
    still_waiting: int = Field(description="Orders still waiting after the retry")


@router.get(
    "/documents/failed",
    dependencies=[Depends(require_scope("billing:admin"))],
    responses=problem_responses(401, 403, 422),
    summary="Invoices that wait un-numbered: refused by e-invoice rules, or the seller's data",
)
async def failed_documents(
    ctx: Context,
    page: Page = 1,
    page_size: PageSize = 50,
    rules_only: Annotated[
        QueryBool, Query(description="Only those refused by e-invoice rules (with rule_ids)")
    ] = False,
) -> WaitingPage:
    orders, total = await ctx.waiting.page(page=page, page_size=page_size, rules_only=rules_only)
    return WaitingPage(
        items=[WaitingOut.of(o) for o in orders], page=page, page_size=page_size, total=total
    )


@router.post(
    "/documents/failed/retry",
    dependencies=[Depends(require_scope("billing:admin"))],
    responses=problem_responses(401, 403),
    summary=f"Try the waiting invoices again (up to {WAITING_BATCH}) after the data was fixed",
    response_model=RetryOut,
)
async def retry_failed(ctx: Context) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: transactor.run(
            lambda uow: retry_waiting(uow, clock=ctx.clock, policy=ctx.policy)
        ),
        present=lambda retried: RetryOut(
            issued=[i.number for i in retried[0]], still_waiting=retried[1]
        ),
    )
