"""HTTP routes of the accounting export (DATEV EXTF) and the open items (OPOS)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from kontor_contracts.personal import PLACEHOLDER_TEXT
from kontor_servicekit.apitypes import Instant, QueryDate, QueryInt, SignedAmount
from kontor_servicekit.auth import Principal, require_scope
from kontor_servicekit.clock import BERLIN
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, Field

from kontor_billing.api.erasure import forbid_unless_tax, hidden
from kontor_billing.api.invoices import Reader
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
#: ``billing:admin``; a batch that names an erased person also needs ``billing:tax``
Admin = Annotated[Principal, Depends(require_scope("billing:admin"))]
MEDIA_TYPE = "text/csv; charset=windows-1252"


@router.get(
    "/exports/datev",
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
    principal: Admin,
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
    record = export.record
    await forbid_unless_tax(
        principal,
        lambda: ctx.erased.datev_restricted(record.keys, record.period.start, record.period.end),
        f"The DATEV batch {record.file_name}",
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
    restricted: bool = Field(
        default=False,
        description="The party (a customer, a sole trader) was erased: kept as a booking "
        "(§147 AO), the name shown to the billing:tax scope only (here: a placeholder)",
    )


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
    def of(cls, found: OpenItems, restricted: frozenset[int] = frozenset()) -> OpenItemsOut:
        """``restricted``: the positions of the items whose party is shown as a placeholder."""
        b = found.bank_balance
        return cls(
            side=found.side,
            as_of=found.as_of,
            total=found.total,
            items=[_item(i, n in restricted) for n, i in enumerate(found.items)],
            bank_balance=None
            if b is None
            else BankBalanceOut(amount=b.amount, date=b.on, iban=b.iban),
        )


def _item(i: OpenItem, restricted: bool) -> OpenItemOut:
    fields = {k: getattr(i, k) for k in OpenItemOut.model_fields if k != "restricted"}
    return OpenItemOut.model_validate({**fields, "restricted": restricted})


async def _without_erased(
    ctx: Context, principal: Principal, found: OpenItems
) -> tuple[OpenItems, frozenset[int]]:
    """The open items with an erased party's name as a placeholder, for a caller without
    billing:tax, and the positions of those items."""

    async def find() -> dict[str, str]:
        if found.side == "receivable":
            return await ctx.erased.restricted_numbers(i.number for i in found.items)
        return await ctx.erased.restricted_incoming(i.record_id for i in found.items if i.record_id)

    erased = await hidden(principal, find)
    receivable = found.side == "receivable"
    hit = frozenset(
        n for n, i in enumerate(found.items) if (i.number if receivable else i.record_id) in erased
    )
    items = [
        replace(i, party=PLACEHOLDER_TEXT) if n in hit else i for n, i in enumerate(found.items)
    ]
    return replace(found, items=items), hit


@router.get(
    "/open-items",
    responses={
        200: {"content": {"application/json": {}, "text/csv": {}}},
        **problem_responses(401, 403, 422),
    },
    summary="Open items (OPOS) of customers or suppliers, and the last statement's balance",
    response_model=OpenItemsOut,
)
async def list_open_items(
    ctx: Context,
    principal: Reader,
    side: Annotated[Literal["receivable", "payable"], Query()],
    format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
) -> Response | OpenItemsOut:
    listed = await ctx.open_items.open_items(side, ctx.clock().astimezone(BERLIN).date())
    found, restricted = await _without_erased(ctx, principal, listed)
    if format == "json":
        return OpenItemsOut.of(found, restricted)
    return Response(
        content=open_items_csv(found.items).encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="opos-{side}-{found.as_of}.csv"',
            "X-Content-Type-Options": "nosniff",
        },
    )
