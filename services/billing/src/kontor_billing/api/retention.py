"""What has become deletable by its retention period (§147 AO, ADR 0027): a list, no
delete (``python -m kontor_billing retention --list`` prints the same)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from kontor_servicekit.apitypes import Page, PageOut, QueryDate, QueryInt
from kontor_servicekit.auth import require_scope
from kontor_servicekit.clock import BERLIN
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, Field

from kontor_billing.context import Context
from kontor_billing.domain.retention import Deletable

router = APIRouter(tags=["retention"])


class DeletableOut(BaseModel):
    number: str = Field(description="Document number, or the number range of an audit chain")
    kind: str
    year: int = Field(description="Calendar year the document was made in")
    retention_ends: date = Field(description="Last day it had to be kept")

    @classmethod
    def of(cls, d: Deletable) -> DeletableOut:
        return cls(number=d.number, kind=d.kind, year=d.year, retention_ends=d.retention_ends)


class DeletablePage(PageOut[DeletableOut]):
    as_of: date
    audit_chains: list[DeletableOut] = Field(
        description="Audit chains (books and records, 10 years) whose period has ended"
    )


@router.get(
    "/retention/deletable",
    dependencies=[Depends(require_scope("billing:admin"))],
    responses=problem_responses(401, 403, 422),
    summary="Documents and audit chains whose retention period has ended (nothing is deleted)",
)
async def deletable(
    ctx: Context,
    as_of: Annotated[
        QueryDate | None, Query(description="The day asked about; default today")
    ] = None,
    page: Page = 1,
    page_size: Annotated[QueryInt, Query(ge=1, le=500)] = 100,
) -> DeletablePage:
    day = as_of or ctx.clock().astimezone(BERLIN).date()
    found = await ctx.retention.deletable(day, page=page, page_size=page_size)
    return DeletablePage(
        items=[DeletableOut.of(d) for d in found.documents],
        page=page,
        page_size=page_size,
        total=found.total,
        as_of=found.as_of,
        audit_chains=[DeletableOut.of(c) for c in found.audit_chains],
    )
