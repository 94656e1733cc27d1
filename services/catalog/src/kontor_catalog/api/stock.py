"""HTTP routes of stock: levels per warehouse, goods receipts, inventory counts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Request, status
from kontor_servicekit.auth import require_scope
from kontor_servicekit.errors import Conflict, NotFound, UnprocessableEntity, problem_responses
from pydantic import BaseModel, ConfigDict, Field

from kontor_catalog.application.stock import UnknownProduct, count_stock, receive_goods
from kontor_catalog.domain.stock import DEFAULT_WAREHOUSE, StockError, StockLevel
from kontor_catalog.store.products import get_product
from kontor_catalog.store.stock import stock_levels

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

    @classmethod
    def of(cls, level: StockLevel) -> LevelOut:
        return cls(
            warehouse=level.warehouse,
            on_hand=level.on_hand,
            reserved=level.reserved,
            available=level.available,
        )


class StockOut(BaseModel):
    sku: str
    on_hand: int
    reserved: int
    available: int
    warehouses: list[LevelOut]

    @classmethod
    def of(cls, sku: str, levels: list[StockLevel]) -> StockOut:
        return cls(
            sku=sku,
            on_hand=sum(level.on_hand for level in levels),
            reserved=sum(level.reserved for level in levels),
            available=sum(level.available for level in levels),
            warehouses=[LevelOut.of(level) for level in levels],
        )


class ReceiptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    warehouse: Warehouse
    quantity: int = Field(gt=0, le=10_000_000)
    reference: str | None = Field(default=None, max_length=128, description="Delivery note no.")
    note: str | None = Field(default=None, max_length=2000)


class CountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    warehouse: Warehouse
    counted: int = Field(ge=0, le=10_000_000, description="Pieces physically counted")
    reference: str | None = Field(default=None, max_length=128, description="Count id")
    note: str | None = Field(default=None, max_length=2000)


def _refused(exc: StockError) -> UnprocessableEntity:
    return UnprocessableEntity(
        detail=str(exc),
        errors=[{"loc": ["body", exc.field], "msg": str(exc), "type": "value_error"}],
    )


async def _stock(request: Request, sku: str) -> StockOut:
    return StockOut.of(sku, await stock_levels(request.app.state.kit.store.db, sku))


@router.get(
    "/stock/{sku}",
    dependencies=[Depends(require_scope("catalog:read"))],
    responses=problem_responses(401, 403, 404),
    summary="Stock of one article: on hand, reserved and available per warehouse",
)
async def read_stock(request: Request, sku: SkuPath) -> StockOut:
    if await get_product(request.app.state.kit.store.db, sku) is None:
        raise NotFound(detail=f"no product with SKU {sku!r}")
    return await _stock(request, sku)


@router.post(
    "/stock/{sku}/receipts",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_scope("catalog:write"))],
    responses=problem_responses(401, 403, 404, 413, 422),
    summary="Book a goods receipt (emits StockAdjusted, reason goods_receipt)",
)
async def post_receipt(
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
) -> StockOut:
    try:
        await receive_goods(
            request.app.state.kit.store,
            sku=sku,
            warehouse=body.warehouse,
            quantity=body.quantity,
            reference=body.reference,
            note=body.note,
        )
    except UnknownProduct as exc:
        raise NotFound(detail=str(exc)) from exc
    except StockError as exc:
        raise _refused(exc) from exc
    return await _stock(request, sku)


@router.post(
    "/stock/{sku}/counts",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_scope("catalog:write"))],
    responses=problem_responses(401, 403, 404, 409, 413, 422),
    summary="Book an inventory count (emits StockAdjusted, reason inventory_count)",
    description="On hand becomes the counted number; a count below the pieces reserved "
    "for open orders is refused with 409 (stock never goes negative).",
)
async def post_count(
    request: Request,
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
) -> StockOut:
    try:
        await count_stock(
            request.app.state.kit.store,
            sku=sku,
            warehouse=body.warehouse,
            counted=body.counted,
            reference=body.reference,
            note=body.note,
        )
    except UnknownProduct as exc:
        raise NotFound(detail=str(exc)) from exc
    except StockError as exc:
        current = await _stock(request, sku)
        raise Conflict(detail=str(exc), extra={"current_state": current.model_dump()}) from exc
    return await _stock(request, sku)
