"""HTTP routes of payouts: payment runs (SEPA pain.001 files) and payout items."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from kontor_contracts.personal import PLACEHOLDER_TEXT
from kontor_servicekit.apitypes import Instant, Page, PageOut, SignedAmount
from kontor_servicekit.auth import Principal, require_scope
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, ConfigDict, Field

from kontor_billing.api.erasure import forbid_unless_tax, hidden
from kontor_billing.api.invoices import PageSize, Reader
from kontor_billing.application.payouts import (
    CreatedRun,
    create_payment_run,
    give_payout_account,
)
from kontor_billing.context import Context
from kontor_billing.domain.payouts import PaymentRun, PayoutItem, PayoutKind, PayoutStatus

#: ``billing:admin``; a payment run's file that pays an erased person also ``billing:tax``
Admin = Annotated[Principal, Depends(require_scope("billing:admin"))]
router = APIRouter(tags=["payouts"])
RunId = Annotated[str, Path(min_length=1, max_length=32)]


class PayoutItemOut(BaseModel):
    number: str
    end_to_end_id: str | None = Field(description="The SEPA EndToEndId (SEPA items)")
    kind: PayoutKind
    route: str = Field(description="sepa (credit transfer) or provider (card/wallet refund)")
    status: PayoutStatus
    source_number: str = Field(description="The correction/cancellation or incoming invoice")
    order_id: str | None
    creditor_name: str
    iban: str | None
    amount: SignedAmount
    discount: SignedAmount = Field(description="Skonto taken (supplier payments)")
    currency: str
    remittance: str
    run_id: str | None
    provider_refund_id: str | None
    failure: str | None
    returns: int = Field(
        default=0,
        description="How often the bank brought its transfer back (ADR 0077); it then waits "
        "for another account (failure says why)",
    )
    created_at: Instant
    sent_at: Instant | None
    settled_at: Instant | None
    restricted: bool = Field(
        default=False,
        description="Paid to a person who was erased since (a customer's refund, a sole "
        "trader's invoice): kept as a booking (§147 AO), the name and IBAN shown to the "
        "billing:tax scope only (here: placeholders)",
    )

    @classmethod
    def of(cls, item: PayoutItem, restricted: bool = False) -> PayoutItemOut:
        shown = cls.model_validate(
            {
                **{k: getattr(item, k) for k in cls.model_fields if hasattr(item, k)},
                "end_to_end_id": item.end_to_end_id,
            }
        )
        if restricted:
            update = {"creditor_name": PLACEHOLDER_TEXT, "iban": None, "restricted": True}
            return shown.model_copy(update=update)
        return shown


class PayoutItemPage(PageOut[PayoutItemOut]):
    pass


class SkippedOut(BaseModel):
    source_number: str
    reason: str


class PaymentRunOut(BaseModel):
    id: str
    created_at: Instant
    execution_date: date
    file_schema: str = Field(description="The file's ISO 20022 message: pain.001.001.09")
    currency: str
    count: int
    control_sum: SignedAmount
    debtor_name: str
    debtor_iban: str
    file: str = Field(description="Where the pain.001 file is downloaded")
    items: list[PayoutItemOut] | None = None
    skipped: list[SkippedOut] = Field(
        default_factory=list, description="Due items not paid, and why (e.g. a bad IBAN)"
    )

    @classmethod
    def of(
        cls, run: PaymentRun, created: CreatedRun | None = None, erased: Collection[str] = ()
    ) -> PaymentRunOut:
        """``erased``: the ids of the items paying a person the caller may not see."""
        return cls(
            id=run.id,
            created_at=run.created_at,
            execution_date=run.execution_date,
            file_schema=run.schema,
            currency=run.currency,
            count=len(run.item_ids),
            control_sum=run.control_sum,
            debtor_name=run.debtor_name,
            debtor_iban=run.debtor_iban,
            file=f"/payment-runs/{run.id}/file",
            items=None
            if created is None
            else [PayoutItemOut.of(i, i.id in erased) for i in created.items],
            skipped=[]
            if created is None
            else [
                SkippedOut(source_number=s.source_number, reason=s.reason) for s in created.skipped
            ],
        )


class PaymentRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    execution_date: date | None = Field(
        default=None, description="Requested execution date (ReqdExctnDt); default today"
    )
    due_until: date | None = Field(
        default=None,
        description="Pay supplier invoices due (or whose Skonto deadline falls) by this "
        "day; default the execution date",
    )


@router.post(
    "/payment-runs",
    status_code=201,
    responses=problem_responses(401, 403, 422),
    summary="A payment run: every due payout in ONE SEPA pain.001.001.09 file",
    response_model=PaymentRunOut,
)
async def new_payment_run(
    ctx: Context, principal: Admin, body: Annotated[PaymentRunIn | None, Body()] = None
) -> Response:
    wanted = body or PaymentRunIn()
    return await ctx.answers.answer(
        ctx.payout_transactor,
        lambda transactor: create_payment_run(
            transactor,
            execution_date=wanted.execution_date,
            due_until=wanted.due_until,
            clock=ctx.clock,
        ),
        present=lambda created: _run_seen(ctx, principal, created),
        status_code=201,
    )


async def _run_seen(ctx: Context, principal: Principal, created: CreatedRun) -> PaymentRunOut:
    """A new run with its items as ``GET /payout-items`` shows them (ADR 0113)."""
    return PaymentRunOut.of(created.run, created, await _erased(ctx, principal, created.items))


@router.get(
    "/payment-runs/{run_id}",
    dependencies=[Depends(require_scope("billing:read"))],
    responses=problem_responses(401, 403, 404),
    summary="One payment run",
)
async def read_payment_run(ctx: Context, run_id: RunId) -> PaymentRunOut:
    run = await ctx.payout_queries.run(run_id)
    if run is None:
        raise NotFound("payment run", run_id)
    return PaymentRunOut.of(run)


@router.get(
    "/payment-runs/{run_id}/file",
    responses={
        200: {"content": {"application/xml": {}}},
        **problem_responses(401, 403, 404),
    },
    response_class=Response,
    summary="The run's pain.001.001.09 file, as written (for the bank's upload)",
)
async def payment_run_file(ctx: Context, principal: Admin, run_id: RunId) -> Response:
    found = await ctx.payout_queries.run_file(run_id)
    if found is None:
        raise NotFound("payment run", run_id)
    await forbid_unless_tax(
        principal, lambda: ctx.erased.run_restricted(run_id), f"The payment run {run_id}"
    )
    run, data = found
    return Response(
        content=data,
        media_type="application/xml",
        headers={
            "Content-Disposition": f'attachment; filename="{run.file_name}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get(
    "/payout-items",
    responses=problem_responses(401, 403, 422),
    summary="Refunds and supplier payments, newest first",
)
async def list_payout_items(
    ctx: Context,
    principal: Reader,
    status: Annotated[PayoutStatus | None, Query()] = None,
    kind: Annotated[PayoutKind | None, Query()] = None,
    run_id: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    page: Page = 1,
    page_size: PageSize = 50,
) -> PayoutItemPage:
    items, total = await ctx.payout_queries.items(
        status=status, kind=kind, run_id=run_id, page=page, page_size=page_size
    )
    erased = await _erased(ctx, principal, items)
    return PayoutItemPage(
        items=[PayoutItemOut.of(i, i.id in erased) for i in items],
        page=page,
        page_size=page_size,
        total=total,
    )


async def _erased(
    ctx: Context, principal: Principal, items: Iterable[PayoutItem]
) -> dict[str, str]:
    """item id -> subject id of the erased people ``principal`` may not see paid."""
    return await hidden(
        principal,
        lambda: ctx.erased.restricted_payouts(
            (i.id, i.kind, i.source_id, i.source_number) for i in items
        ),
    )


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    iban: str = Field(min_length=15, max_length=42)
    name: str | None = Field(default=None, min_length=1, max_length=70)
    bic: str | None = Field(default=None, min_length=8, max_length=11)


@router.put(
    "/payout-items/{number}/account",
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="The customer's account for a SEPA refund that waits for one",
    response_model=PayoutItemOut,
)
async def set_payout_account(
    ctx: Context,
    principal: Admin,
    number: Annotated[str, Path(min_length=1, max_length=32)],
    body: AccountIn,
) -> Response:
    return await ctx.answers.answer(
        ctx.payout_transactor,
        lambda transactor: give_payout_account(
            transactor,
            number,
            iban=body.iban,
            name=body.name,
            bic=body.bic,
            clock=ctx.clock,
        ),
        present=lambda item: _item_seen(ctx, principal, item),
    )


async def _item_seen(ctx: Context, principal: Principal, item: PayoutItem) -> PayoutItemOut:
    return PayoutItemOut.of(item, item.id in await _erased(ctx, principal, [item]))
