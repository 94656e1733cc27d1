"""HTTP routes of stock: levels per warehouse, goods receipts, inventory counts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Request, Response, status
from kontor_servicekit.apitypes import Pieces, StockCount
from kontor_servicekit.auth import require_scope
from kontor_servicekit.errors import problem_responses
from kontor_servicekit.idempotency import IdempotencyKey
from pydantic import BaseModel, ConfigDict, Field

from kontor_catalog.application.stock import count_stock, receive_goods
from kontor_catalog.context import Context
from kontor_catalog.domain.errors import UnknownProduct
from kontor_catalog.domain.stock import DEFAULT_WAREHOUSE, StockSummary

router = APIRouter(tags=["stock"])

SkuPath = Annotated[str, Path(min_length=1, max_length=64, examples=["TEE-RED-M"])]
Warehouse = Annotated[
    str,
    Field(
        default=DEFAULT_WAREHOUSE,
        pattern=r"^[a-z0-9][a-z0-9_\-]{0,31}$",
        description="Warehouse id",
        examples=["main"],
    ),
]


class LevelOut(BaseModel):
    warehouse: str
    on_hand: int
    reserved: int
    available: int


class StockOut(BaseModel):
    sku: str
    on_hand: int
    reserved: int
    available: int
    warehouses: list[LevelOut]

    @classmethod
    def of(cls, stock: StockSummary) -> StockOut:
        return cls.model_validate(stock.as_dict())


class ReceiptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    warehouse: Warehouse
    quantity: Pieces
    reference: str | None = Field(default=None, max_length=128, description="Delivery note no.")
    note: str | None = Field(default=None, max_length=2000)


class CountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    warehouse: Warehouse
    counted: StockCount = Field(description="Pieces physically counted")
    reference: str | None = Field(default=None, max_length=128, description="Count id")
    note: str | None = Field(default=None, max_length=2000)


@router.get(
    "/stock/{sku}",
    dependencies=[Depends(require_scope("catalog:read"))],
    responses=problem_responses(401, 403, 404),
    summary="Stock of one article: on hand, reserved and available per warehouse",
)
async def read_stock(ctx: Context, sku: SkuPath) -> StockOut:
    stock = await ctx.stock.of(sku)
    if stock is None:
        raise UnknownProduct(sku)
    return StockOut.of(stock)


@router.post(
    "/stock/{sku}/receipts",
    status_code=status.HTTP_201_CREATED,
    response_model=StockOut,
    dependencies=[Depends(require_scope("catalog:write"))],
    responses=problem_responses(401, 403, 404, 409, 413, 422),
    summary="Book a goods receipt (emits StockAdjusted, reason goods_receipt)",
    description="With an `Idempotency-Key` a retried receipt is booked once.",
)
async def post_receipt(
    ctx: Context,
    request: Request,
    sku: SkuPath,
    body: Annotated[
        ReceiptIn,
        Body(
            openapi_examples={
                "receipt": {
                    "summary": "40 pieces from a supplier's delivery",
                    "value": {"warehouse": "main", "quantity": 40, "reference": "LS-2026-0815"},
                }
            }
        ),
    ],
    idempotency_key: IdempotencyKey = None,
) -> Response:
    return await ctx.answers.respond(
        request,
        ctx.transactor,
        lambda transactor: receive_goods(
            transactor,
            sku=sku,
            warehouse=body.warehouse,
            quantity=body.quantity,
            reference=body.reference,
            note=body.note,
        ),
        present=StockOut.of,
        status_code=status.HTTP_201_CREATED,
        key=idempotency_key,
        body=body,
        location=lambda _: f"/stock/{sku}",
    )


@router.post(
    "/stock/{sku}/counts",
    status_code=status.HTTP_201_CREATED,
    response_model=StockOut,
    dependencies=[Depends(require_scope("catalog:write"))],
    responses=problem_responses(401, 403, 404, 409, 413, 422),
    summary="Book an inventory count (emits StockAdjusted, reason inventory_count)",
    description="On hand becomes the counted number; a count below the pieces reserved "
    "for open orders is refused with 409 (stock never goes negative).",
)
async def post_count(
    ctx: Context,
    sku: SkuPath,
    body: Annotated[
        CountIn,
        Body(
            openapi_examples={
                "count": {
                    "summary": "Year-end count found 37 pieces",
                    "value": {"warehouse": "main", "counted": 37, "reference": "INV-2026"},
                }
            }
        ),
    ],
) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: count_stock(
            transactor,
            sku=sku,
            warehouse=body.warehouse,
            counted=body.counted,
            reference=body.reference,
            note=body.note,
        ),
        present=StockOut.of,
        status_code=status.HTTP_201_CREATED,
    )
