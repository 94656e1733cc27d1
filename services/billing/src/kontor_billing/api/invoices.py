"""HTTP routes of invoices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from kontor_servicekit.apitypes import Instant, MoneyAmount
from kontor_servicekit.auth import require_scope
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel

from kontor_billing.context import Context

router = APIRouter(tags=["invoices"])


class InvoiceLineOut(BaseModel):
    line_no: int
    sku: str | None
    description: str
    quantity: int
    unit_price_net: MoneyAmount
    vat_rate: Decimal
    net: MoneyAmount
    vat: MoneyAmount
    gross: MoneyAmount


class VatRowOut(BaseModel):
    vat_rate: Decimal
    net: MoneyAmount
    vat: MoneyAmount
    gross: MoneyAmount


class BuyerOut(BaseModel):
    name: str
    company: str | None
    email: str
    street: str
    postcode: str
    city: str
    country: str


class InvoiceOut(BaseModel):
    id: str
    number: str
    order_id: str
    order_number: str | None
    buyer: BuyerOut
    buyer_vat_id: str | None
    currency: str
    issued_at: Instant
    issue_date: date
    due_date: date
    lines: list[InvoiceLineOut]
    vat_breakdown: list[VatRowOut]
    net_total: MoneyAmount
    vat_total: MoneyAmount
    gross_total: MoneyAmount

    @classmethod
    def of(cls, doc: dict[str, Any]) -> InvoiceOut:
        return cls.model_validate({**doc, "id": doc["_id"]})


@router.get(
    "/invoices",
    dependencies=[Depends(require_scope("billing:read"))],
    responses=problem_responses(401, 403, 422),
    summary="The invoices of an order",
)
async def list_invoices(
    ctx: Context,
    order_id: Annotated[str, Query(min_length=1, max_length=64, description="The order's id")],
) -> list[InvoiceOut]:
    docs = await ctx.invoices.of_order(order_id)
    return [InvoiceOut.of(d) for d in docs]


@router.get(
    "/invoices/{number}",
    dependencies=[Depends(require_scope("billing:read"))],
    responses=problem_responses(401, 403, 404),
    summary="One invoice by its number",
)
async def read_invoice(
    ctx: Context, number: Annotated[str, Path(min_length=1, max_length=32)]
) -> InvoiceOut:
    doc = await ctx.invoices.by_number(number)
    if doc is None:
        raise NotFound("invoice", number)
    return InvoiceOut.of(doc)
