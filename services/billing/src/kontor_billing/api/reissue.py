"""HTTP route of Storno + new invoice: a cancelled invoice's order invoiced again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Response
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, ConfigDict, Field, field_validator

from kontor_billing.api.invoices import Admin, InvoiceOut, shown_issued
from kontor_billing.api.seller import SellerIn
from kontor_billing.application.reissue import reissue_invoice
from kontor_billing.context import Context
from kontor_billing.domain.reissue import BuyerCorrection

router = APIRouter(tags=["invoices"])

Number = Annotated[str, Path(min_length=1, max_length=32)]
Text = Annotated[str, Field(min_length=1, max_length=200)]


class BuyerCorrectionIn(BaseModel):
    """The buyer's data to correct on the new invoice; what is left out stays as it was."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Text | None = None
    company: Text | None = None
    street: Text | None = None
    postcode: Annotated[str, Field(min_length=1, max_length=16)] | None = None
    city: Text | None = None
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)] | None = (
        None
    )
    vat_id: Annotated[str, Field(min_length=4, max_length=20)] | None = None

    @field_validator("vat_id")
    @classmethod
    def _vat_id(cls, value: str | None) -> str | None:
        return SellerIn._vat_id(value)  # the same check as the seller's (format, digit)


class ReissueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    buyer: BuyerCorrectionIn = Field(default_factory=BuyerCorrectionIn)


@router.post(
    "/invoices/{number}/reissue",
    status_code=201,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="After its cancellation: a new invoice for the same order (buyer corrected)",
    response_model=InvoiceOut,
)
async def reissue(
    ctx: Context,
    principal: Admin,
    number: Number,
    body: Annotated[ReissueIn | None, Body()] = None,
) -> Response:
    correction = BuyerCorrection(**(body or ReissueIn()).buyer.model_dump())
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: transactor.run(
            lambda uow: reissue_invoice(uow, number, correction, clock=ctx.clock, policy=ctx.policy)
        ),
        present=lambda invoice: shown_issued(ctx, principal, invoice),
        status_code=201,
    )
