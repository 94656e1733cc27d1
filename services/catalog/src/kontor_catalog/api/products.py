"""HTTP routes of the assortment."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request, status
from kontor_servicekit.apitypes import MoneyAmount
from kontor_servicekit.auth import require_scope
from kontor_servicekit.errors import Conflict, NotFound, UnprocessableEntity, problem_responses
from pydantic import BaseModel, ConfigDict, Field

from kontor_catalog.application.products import CreateProduct, create_product
from kontor_catalog.domain.product import Product, ProductError
from kontor_catalog.store.products import SkuTaken, get_product
from kontor_catalog.store.stock import available_by_sku

router = APIRouter(tags=["products"])

SkuPath = Annotated[str, Path(min_length=1, max_length=64, examples=["TEE-RED-M"])]


class PriceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    net: MoneyAmount = Field(description="Net price per piece, decimal string")
    currency: Literal["EUR"] = "EUR"


class ProductIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "sku": "TEE-RED-M",
                    "name": "T-Shirt rot, M",
                    "price": {"net": "19.99", "currency": "EUR"},
                    "vat_class": "standard",
                    "stock": 10,
                }
            ]
        },
    )
    sku: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20_000)
    gtin: str | None = Field(default=None, pattern=r"^\d{8}$|^\d{12,14}$")
    price: PriceIn
    vat_class: Literal["standard", "reduced", "zero"]
    stock: int = Field(default=0, ge=0, le=10_000_000)


class PriceOut(BaseModel):
    net: MoneyAmount
    gross: MoneyAmount
    currency: str
    vat_rate: Decimal


class ProductOut(BaseModel):
    sku: str
    name: str
    description: str | None
    gtin: str | None
    price: PriceOut
    vat_class: str
    stock: int = Field(description="Pieces available (on hand minus reserved), all warehouses")
    discontinued: bool
    created_at: datetime

    @classmethod
    def of(cls, product: Product, *, available: int | None = None) -> ProductOut:
        return cls(
            sku=product.sku,
            name=product.name,
            description=product.description,
            gtin=product.gtin,
            price=PriceOut(
                net=product.price_net,
                gross=product.price_gross,
                currency=product.currency,
                vat_rate=product.vat_rate,
            ),
            vat_class=product.vat_class,
            stock=product.stock if available is None else available,
            discontinued=product.discontinued,
            created_at=product.created_at,
        )


@router.post(
    "/products",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_scope("catalog:write"))],
    responses=problem_responses(401, 403, 409, 413, 422),
    summary="Add a product to the assortment (emits ProductCreated)",
)
async def post_product(request: Request, body: ProductIn) -> ProductOut:
    store = request.app.state.kit.store
    try:
        product = await create_product(
            store,
            CreateProduct(
                sku=body.sku,
                name=body.name,
                description=body.description,
                gtin=body.gtin,
                price_net=body.price.net,
                currency=body.price.currency,
                vat_class=body.vat_class,
                stock=body.stock,
            ),
        )
    except SkuTaken as exc:
        raise Conflict(detail=str(exc)) from exc
    except ProductError as exc:
        raise UnprocessableEntity(
            detail=str(exc),
            errors=[
                {"loc": ["body", *exc.field.split(".")], "msg": str(exc), "type": "value_error"}
            ],
        ) from exc
    return ProductOut.of(product)


@router.get(
    "/products/{sku}",
    dependencies=[Depends(require_scope("catalog:read"))],
    responses=problem_responses(401, 403, 404),
    summary="One product",
)
async def read_product(request: Request, sku: SkuPath) -> ProductOut:
    product = await get_product(request.app.state.kit.store.db, sku)
    if product is None:
        raise NotFound(detail=f"no product with SKU {sku!r}")
    db = request.app.state.kit.store.db
    return ProductOut.of(product, available=(await available_by_sku(db, [sku]))[sku])
