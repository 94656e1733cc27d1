"""HTTP routes of the assortment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Path, Request, status
from kontor_servicekit.apitypes import MoneyAmount
from kontor_servicekit.auth import require_scope
from kontor_servicekit.errors import Conflict, NotFound, UnprocessableEntity, problem_responses
from pydantic import BaseModel, ConfigDict, Field

from kontor_catalog.application.products import (
    ChangePrice,
    CreateProduct,
    UnknownSku,
    change_price,
    create_product,
)
from kontor_catalog.domain.pricing import PricePoint, base_price, reference_price
from kontor_catalog.domain.product import Product, ProductError
from kontor_catalog.store.products import SkuTaken, get_product, price_history
from kontor_catalog.store.stock import available_by_sku

router = APIRouter(tags=["products"])

SkuPath = Annotated[str, Path(min_length=1, max_length=64, examples=["TEE-RED-M"])]


class PriceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    net: MoneyAmount = Field(description="Net price per piece, decimal string")
    currency: Literal["EUR"] = "EUR"


#: A non-negative decimal string; the kit's money type has exactly the rules a content
#: quantity needs (no float, at most 4 places).
DecimalString = MoneyAmount

ContentUnit = Literal["g", "kg", "ml", "l", "cm", "m", "m2", "m3"]


class ContentIn(BaseModel):
    """Content of a pack sold by measure (Füllmenge), for the base price (§4 PAngV)."""

    model_config = ConfigDict(extra="forbid")
    quantity: DecimalString = Field(description="e.g. 250 (with unit g)")
    unit: ContentUnit


class ContentOut(BaseModel):
    quantity: DecimalString
    unit: str


class BasePriceOut(BaseModel):
    amount: MoneyAmount = Field(description="Gross price per base unit")
    per: str = Field(examples=["1 kg"])


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
    content: ContentIn | None = None


class PriceOut(BaseModel):
    net: MoneyAmount
    gross: MoneyAmount
    currency: str
    vat_rate: Decimal
    lowest_30_days: MoneyAmount | None = Field(
        default=None,
        description="Lowest gross price of the 30 days before the current price took "
        "effect (§11 PAngV); null without earlier prices in that window",
    )
    strike_through: MoneyAmount | None = Field(
        default=None,
        description="The price that may be shown struck through: only when the current "
        "gross is below the 30-day lowest, and then it is that lowest price",
    )
    base_price: BasePriceOut | None = Field(
        default=None, description="Grundpreis (§4 PAngV) for goods sold by measure"
    )


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
    content: ContentOut | None = None

    @classmethod
    def of(
        cls,
        product: Product,
        *,
        available: int | None = None,
        history: Sequence[PricePoint] = (),
    ) -> ProductOut:
        reference = reference_price(history)
        base = None
        content = None
        if product.content_quantity is not None and product.content_unit is not None:
            content = ContentOut(quantity=product.content_quantity, unit=product.content_unit)
            per = base_price(product.price_gross, product.content_quantity, product.content_unit)
            base = BasePriceOut(amount=per.amount, per=per.per)
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
                lowest_30_days=reference.lowest_30_days,
                strike_through=reference.strike_through,
                base_price=base,
            ),
            content=content,
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
                content_quantity=body.content.quantity if body.content else None,
                content_unit=body.content.unit if body.content else None,
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
    return ProductOut.of(
        product,
        history=[PricePoint(product.created_at, product.price_net, product.vat_class)],
    )


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
    return await _product_out(request, product)


async def _product_out(request: Request, product: Product) -> ProductOut:
    db = request.app.state.kit.store.db
    return ProductOut.of(
        product,
        available=(await available_by_sku(db, [product.sku]))[product.sku],
        history=await price_history(db, product.sku),
    )


class PriceChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    net: MoneyAmount = Field(description="New net price per piece, decimal string")
    currency: Literal["EUR"] = "EUR"
    vat_class: Literal["standard", "reduced", "zero"] | None = Field(
        default=None, description="New VAT class; unchanged if left out"
    )


@router.put(
    "/products/{sku}/price",
    dependencies=[Depends(require_scope("catalog:write"))],
    responses=problem_responses(401, 403, 404, 413, 422),
    summary="Change the price or VAT class (emits ProductPriceChanged if anything changed)",
    description="Every price is kept in the product's price history; the response shows "
    "the lowest price of the previous 30 days and, for a reduction, the strike-through "
    "price (§11 PAngV). Setting the current price again changes and emits nothing.",
)
async def put_price(
    request: Request,
    sku: SkuPath,
    body: Annotated[
        PriceChangeIn,
        Body(
            openapi_examples={
                "reduce": {
                    "summary": "Reduce the net price",
                    "value": {"net": "16.80", "currency": "EUR"},
                },
                "vat_class": {
                    "summary": "Price and VAT class together",
                    "value": {"net": "16.80", "currency": "EUR", "vat_class": "reduced"},
                },
            }
        ),
    ],
) -> ProductOut:
    store = request.app.state.kit.store
    current = await get_product(store.db, sku)
    if current is None:
        raise NotFound(detail=f"no product with SKU {sku!r}")
    try:
        await change_price(
            store,
            ChangePrice(sku=sku, price_net=body.net, vat_class=body.vat_class or current.vat_class),
        )
    except UnknownSku as exc:
        raise NotFound(detail=str(exc)) from exc
    product = await get_product(store.db, sku)
    assert product is not None
    return await _product_out(request, product)
