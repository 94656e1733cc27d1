"""HTTP route of the audit trail (GoBD): walk every chain, name the first broken link."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from kontor_servicekit.auth import require_scope
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel

from kontor_billing.context import Context

router = APIRouter(tags=["audit"])


class BrokenOut(BaseModel):
    chain: str
    seq: int
    number: str | None
    reason: str


class ChainOut(BaseModel):
    chain: str
    entries: int
    ok: bool
    broken: BrokenOut | None


class VerifyOut(BaseModel):
    ok: bool
    chains: list[ChainOut]
    first_broken: BrokenOut | None


@router.get(
    "/audit/verify",
    dependencies=[Depends(require_scope("billing:admin"))],
    responses=problem_responses(401, 403),
    summary="Check the hash chain of every number range against the stored documents",
)
async def verify(ctx: Context) -> VerifyOut:
    reports = await ctx.invoices.verify_audit()
    chains = [
        ChainOut(
            chain=r.chain,
            entries=r.entries,
            ok=r.broken is None,
            broken=BrokenOut.model_validate(vars(r.broken)) if r.broken else None,
        )
        for r in reports
    ]
    broken = next((c.broken for c in chains if c.broken), None)
    return VerifyOut(ok=broken is None, chains=chains, first_broken=broken)
