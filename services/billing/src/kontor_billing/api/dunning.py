"""HTTP routes of dunning: the reminders and notices of an invoice, and their PDFs."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from kontor_servicekit.apitypes import Instant, MoneyAmount, Page, PageOut
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, Field

from kontor_billing.api.documents import _content, _served
from kontor_billing.api.erasure import any_of, forbid_unless_tax, hidden_numbers
from kontor_billing.api.invoices import PageSize, Reader
from kontor_billing.context import Context
from kontor_billing.domain.dunning import DunningNotice

router = APIRouter(tags=["dunning"])
Number = Annotated[str, Path(min_length=1, max_length=32)]


class DunningNoticeOut(BaseModel):
    number: str
    level: int = Field(description="1 payment reminder, 2 first, 3 second dunning notice")
    name: str
    title: str
    invoice_number: str
    order_id: str
    issued_at: Instant
    issue_date: date
    due_date: date = Field(description="The invoice's due date")
    days_overdue: int
    currency: str
    open_amount: MoneyAmount
    fee: MoneyAmount = Field(description="This level's fee")
    fees_total: MoneyAmount
    interest: MoneyAmount = Field(description="§288 BGB default interest so far")
    interest_rate_percent: MoneyAmount
    base_rate_percent: MoneyAmount = Field(description="Basiszinssatz applied (last period)")
    interest_since: date | None
    interest_until: date | None = Field(
        description="The last day the interest covers (none on notices issued before it was kept)"
    )
    base_rate_unknown_from: date | None = Field(
        description="Set when the interest stops short: no Basiszinssatz is known from this day "
        "(add it to DUNNING_BASE_RATES; ADR 0070)"
    )
    flat_fee: MoneyAmount = Field(description="§288 (5) BGB flat fee (businesses, once)")
    business: bool
    total_claim: MoneyAmount
    pay_by: date
    pdf: str
    restricted: bool = Field(
        default=False,
        description="Sent to a buyer who was erased since: kept as a business letter (§147 "
        "AO); its PDF, which names them, is shown to the billing:tax scope only",
    )

    @classmethod
    def of(cls, n: DunningNotice, restricted: bool = False) -> DunningNoticeOut:
        shown = ("pdf", "total_claim", "restricted")
        return cls(
            **{k: getattr(n, k) for k in cls.model_fields if k not in shown},
            total_claim=n.total_claim,
            pdf=f"/dunning/{n.number}/pdf",
            restricted=restricted,
        )


class DunningPage(PageOut[DunningNoticeOut]):
    pass


@router.get(
    "/dunning",
    responses=problem_responses(401, 403, 422),
    summary="Reminders and dunning notices, oldest first, of an invoice if given",
)
async def list_notices(
    ctx: Context,
    principal: Reader,
    invoice_number: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    page: Page = 1,
    page_size: PageSize = 50,
) -> DunningPage:
    found = await ctx.dunning.page(invoice_number=invoice_number, page=page, page_size=page_size)
    erased = await hidden_numbers(ctx, principal, [n.invoice_number for n in found.items])
    return DunningPage(
        items=[DunningNoticeOut.of(n, n.invoice_number in erased) for n in found.items],
        page=page,
        page_size=page_size,
        total=found.total,
    )


@router.get(
    "/dunning/{number}",
    responses=problem_responses(401, 403, 404),
    summary="One reminder or dunning notice",
)
async def read_notice(ctx: Context, principal: Reader, number: Number) -> DunningNoticeOut:
    notice = await ctx.dunning.by_number(number)
    if notice is None:
        raise NotFound("dunning notice", number)
    erased = await hidden_numbers(ctx, principal, [notice.invoice_number])
    return DunningNoticeOut.of(notice, notice.invoice_number in erased)


@router.get(
    "/dunning/{number}/pdf",
    responses={**_content("application/pdf"), **problem_responses(401, 403, 404)},
    response_class=Response,
    summary="The reminder or dunning notice as a PDF letter",
)
async def notice_pdf(ctx: Context, principal: Reader, number: Number) -> Response:
    notice = await ctx.dunning.by_number(number)
    if notice is None:
        raise NotFound("dunning notice", number)
    invoice = notice.invoice_number
    await forbid_unless_tax(
        principal,
        lambda: any_of(ctx.erased.restricted_numbers([invoice])),
        f"The dunning notice {number}",
    )
    return _served(await ctx.dunning_documents.pdf(number))
