"""HTTP routes of the accounting export (DATEV EXTF) and the open items (OPOS)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from kontor_servicekit.apitypes import Instant, QueryDate, QueryInt, SignedAmount
from kontor_servicekit.auth import require_scope
from kontor_servicekit.clock import BERLIN
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, Field

from kontor_billing.application.datev import (
    ExportedPeriod,
    LateDocument,
    export_datev,
    exported_periods,
)
from kontor_billing.context import Context
from kontor_billing.domain.datev import period
from kontor_billing.domain.open_items import OpenItem, OpenItems, open_items_csv

router = APIRouter(tags=["accounting"])
MEDIA_TYPE = "text/csv; charset=windows-1252"


@router.get(
    "/exports/datev",
    dependencies=[Depends(require_scope("billing:admin"))],
    responses={
        200: {"content": {MEDIA_TYPE: {}}},
        **problem_responses(401, 403, 404, 409, 422),
    },
    response_class=Response,
    summary="The period's bookings as a DATEV EXTF Buchungsstapel (format 700, category 21, "
    "version 13), Windows-1252; the same bytes on every export of the period; batch 2, 3, "
    "... a follow-up with what came for the period after the batch before",
)
async def datev_export(
    ctx: Context,
    from_: Annotated[QueryDate, Query(alias="from", description="First day (YYYY-MM-DD)")],
    to: Annotated[QueryDate, Query(description="Last day (YYYY-MM-DD)")],
    batch: Annotated[
        QueryInt,
        Query(
            ge=1,
            le=999,
            description="1 the first export; n > 1 the n-th batch: made once when it is the "
            "next one and documents came late (409 when none did), kept afterwards",
        ),
    ] = 1,
) -> Response:
    wanted = period(from_, to, fiscal_year_start_month=ctx.datev.fiscal_year_start_month)
    export = await export_datev(
        ctx.payout_transactor, wanted, policy=ctx.datev, clock=ctx.clock, batch=batch
    )
    return Response(
        content=export.file,
        media_type=MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{export.record.file_name}"',
            "X-Content-Type-Options": "nosniff",
            "X-Datev-First-Export": "true" if export.first else "false",
            "X-Datev-Batch": str(export.record.batch),
            "X-Datev-Late-Documents": str(len(export.late)),
            "X-Datev-Sha256": export.record.sha256,
        },
    )


class LateDocumentOut(BaseModel):
    kind: str = Field(description="document, payment, incoming_invoice or payout")
    number: str


class ExportedPeriodOut(BaseModel):
    from_: date = Field(serialization_alias="from")
    to: date
    batch: int = Field(description="1 the first export, 2, 3, ... the follow-ups (ADR 0073)")
    exported_at: Instant = Field(description="The first export: the EXTF header's time")
    chart: str
    bookings: int
    sha256: str
    file_name: str
    late_documents: list[LateDocumentOut] = Field(
        description="Issued or booked for the period after it was exported and in no batch "
        "of it yet: the next batch takes them"
    )

    @classmethod
    def of(cls, found: ExportedPeriod) -> ExportedPeriodOut:
        r = found.record
        return cls(
            from_=r.period.start,
            to=r.period.end,
            batch=r.batch,
            exported_at=r.created_at,
            chart=r.chart,
            bookings=r.bookings,
            sha256=r.sha256,
            file_name=r.file_name,
            late_documents=[_late(d) for d in found.late],
        )


def _late(doc: LateDocument) -> LateDocumentOut:
    return LateDocumentOut(kind=doc.kind, number=doc.number)


@router.get(
    "/exports",
    dependencies=[Depends(require_scope("billing:admin"))],
    responses=problem_responses(401, 403),
    summary="The exported periods, newest first, with documents that came for them later",
)
async def list_exports(ctx: Context) -> list[ExportedPeriodOut]:
    found = await exported_periods(ctx.payout_transactor, policy=ctx.datev)
    return [ExportedPeriodOut.of(p) for p in found]


class OpenItemOut(BaseModel):
    number: str
    party: str
    issue_date: date | None
    due_date: date | None
    currency: str
    amount: SignedAmount
    settled: SignedAmount
    open_amount: SignedAmount = Field(description="Negative: a credit of the customer")
    days_overdue: int
    order_number: str | None
    skonto_until: date | None


class BankBalanceOut(BaseModel):
    amount: SignedAmount
    date: date
    iban: str


class OpenItemsOut(BaseModel):
    side: Literal["receivable", "payable"]
    as_of: date
    total: SignedAmount
    items: list[OpenItemOut]
    bank_balance: BankBalanceOut | None = Field(
        description="The closing balance of the last bank statement imported"
    )

    @classmethod
    def of(cls, found: OpenItems) -> OpenItemsOut:
        b = found.bank_balance
        return cls(
            side=found.side,
            as_of=found.as_of,
            total=found.total,
            items=[_item(i) for i in found.items],
            bank_balance=None
            if b is None
            else BankBalanceOut(amount=b.amount, date=b.on, iban=b.iban),
        )


def _item(i: OpenItem) -> OpenItemOut:
    return OpenItemOut.model_validate({k: getattr(i, k) for k in OpenItemOut.model_fields})


@router.get(
    "/open-items",
    dependencies=[Depends(require_scope("billing:read"))],
    responses={
        200: {"content": {"application/json": {}, "text/csv": {}}},
        **problem_responses(401, 403, 422),
    },
    summary="Open items (OPOS) of customers or suppliers, and the last statement's balance",
    response_model=OpenItemsOut,
)
async def list_open_items(
    ctx: Context,
    side: Annotated[Literal["receivable", "payable"], Query()],
    format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
) -> Response | OpenItemsOut:
    found = await ctx.open_items.open_items(side, ctx.clock().astimezone(BERLIN).date())
    if format == "json":
        return OpenItemsOut.of(found)
    return Response(
        content=open_items_csv(found.items).encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="opos-{side}-{found.as_of}.csv"',
            "X-Content-Type-Options": "nosniff",
        },
    )
