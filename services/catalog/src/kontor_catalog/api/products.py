"""HTTP routes of the assortment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, status
from kontor_servicekit.apitypes import MoneyAmount
from kontor_servicekit.auth import require_scope
from kontor_servicekit.errors import Conflict, NotFound, UnprocessableEntity, problem_responses
from pydantic import BaseModel, ConfigDict, Field

from kontor_catalog.api.images import ImageOut
from kontor_catalog.application.products import (
    ChangePrice,
    CreateProduct,
    UnknownSku,
    change_price,
    create_product,
    discontinue_product,
    update_product,
)
from kontor_catalog.domain.pricing import PricePoint, base_price, reference_price
from kontor_catalog.domain.product import Product, ProductError
from kontor_catalog.store.categories import subtree
from kontor_catalog.store.images import images_of
from kontor_catalog.store.products import (
    GtinTaken,
    ProductQuery,
    SkuTaken,
    find_products,
    get_product,
    price_history,
    variants_of,
)
from kontor_catalog.store.stock import available_by_sku, skus_in_stock

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


CategoryId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9\-]{0,63}$")]
AttributeKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
AttributeValue = Annotated[str, Field(min_length=1, max_length=200)]


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
                },
                {
                    "sku": "TEE-RED-L",
                    "name": "T-Shirt rot, L",
                    "name_en": "T-shirt red, L",
                    "description": "Bio-Baumwolle, 180 g/m²",
                    "description_en": "Organic cotton, 180 g/m²",
                    "brand": "Nordfaser",
                    "gtin": "4006381333931",
                    "categories": ["t-shirts"],
                    "attributes": {"material": "Baumwolle"},
                    "parent_sku": "TEE-RED",
                    "variant_attributes": {"size": "L", "colour": "rot"},
                    "price": {"net": "19.99", "currency": "EUR"},
                    "vat_class": "standard",
                    "stock": 5,
                },
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
    name_en: str | None = Field(default=None, min_length=1, max_length=200)
    description_en: str | None = Field(default=None, max_length=20_000)
    brand: str | None = Field(default=None, min_length=1, max_length=100)
    categories: list[CategoryId] = Field(default_factory=list, max_length=20)
    attributes: dict[AttributeKey, AttributeValue] = Field(default_factory=dict, max_length=50)
    parent_sku: str | None = Field(
        default=None, min_length=1, max_length=64, description="Makes this a variant"
    )
    variant_attributes: dict[AttributeKey, AttributeValue] | None = Field(
        default=None, max_length=10, description='What sets a variant apart: {"size": "M"}'
    )
    weight_grams: int | None = Field(
        default=None, ge=0, le=10_000_000, description="Shipping weight per piece"
    )


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
    name_en: str | None = None
    description_en: str | None = None
    brand: str | None = None
    categories: list[str] = Field(default_factory=list)
    attributes: dict[str, str] = Field(default_factory=dict)
    parent_sku: str | None = None
    variant_attributes: dict[str, str] | None = None
    variants: list[str] = Field(default_factory=list, description="SKUs of its variants")
    images: list[ImageOut] = Field(default_factory=list, description="In order")
    weight_grams: int | None = None
    discontinued_at: datetime | None = None

    @classmethod
    def of(
        cls,
        product: Product,
        *,
        available: int | None = None,
        history: Sequence[PricePoint] = (),
        variants: Sequence[str] = (),
        images: Sequence[ImageOut] = (),
    ) -> ProductOut:
        reference = reference_price(history)
        base = None
        content = None
        if product.content_quantity is not None and product.content_unit is not None:
            content = ContentOut(quantity=product.content_quantity, unit=product.content_unit)
            per = base_price(
                product.price_gross,
                product.content_quantity,
                product.content_unit,
                product.currency,
            )
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
            name_en=product.name_en,
            description_en=product.description_en,
            brand=product.brand,
            categories=product.categories,
            attributes=product.attributes,
            parent_sku=product.parent_sku,
            variant_attributes=product.variant_attributes,
            variants=list(variants),
            images=list(images),
            weight_grams=product.weight_grams,
            discontinued_at=product.discontinued_at,
        )


def _refused(exc: ProductError) -> UnprocessableEntity:
    return UnprocessableEntity(
        detail=str(exc),
        errors=[{"loc": ["body", *exc.field.split(".")], "msg": str(exc), "type": "value_error"}],
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
                name_en=body.name_en,
                description_en=body.description_en,
                brand=body.brand,
                categories=body.categories,
                attributes=body.attributes,
                parent_sku=body.parent_sku,
                variant_attributes=body.variant_attributes,
                weight_grams=body.weight_grams,
            ),
        )
    except (SkuTaken, GtinTaken) as exc:
        raise Conflict(detail=str(exc)) from exc
    except ProductError as exc:
        raise _refused(exc) from exc
    return ProductOut.of(
        product,
        history=[
            PricePoint(product.created_at, product.price_net, product.vat_class, product.currency)
        ],
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
        history=await price_history(db, product.sku, currency=product.currency),
        variants=[v.sku for v in await variants_of(db, product.sku)],
        images=[ImageOut.of(doc) for doc in await images_of(db, product.sku)],
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


class ProductPatch(BaseModel):
    """Descriptive data; a field left out stays, a field sent as null is cleared."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    name_en: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20_000)
    description_en: str | None = Field(default=None, max_length=20_000)
    brand: str | None = Field(default=None, min_length=1, max_length=100)
    gtin: str | None = Field(default=None, pattern=r"^\d{8}$|^\d{12,14}$")
    categories: list[CategoryId] | None = Field(default=None, max_length=20)
    attributes: dict[AttributeKey, AttributeValue] | None = Field(default=None, max_length=50)
    weight_grams: int | None = Field(default=None, ge=0, le=10_000_000)


@router.patch(
    "/products/{sku}",
    dependencies=[Depends(require_scope("catalog:write"))],
    responses=problem_responses(401, 403, 404, 409, 413, 422),
    summary="Change descriptive data (emits ProductUpdated with changed_fields)",
    description="Names, descriptions (German and English), brand, GTIN, categories and "
    "attributes. Prices change via PUT /products/{sku}/price. Nothing changed: no event.",
)
async def patch_product(
    request: Request,
    sku: SkuPath,
    body: Annotated[
        ProductPatch,
        Body(
            openapi_examples={
                "english": {
                    "summary": "Add the English name and a category",
                    "value": {"name_en": "T-shirt red, M", "categories": ["t-shirts"]},
                },
                "clear": {"summary": "Clear the brand", "value": {"brand": None}},
            }
        ),
    ],
) -> ProductOut:
    store = request.app.state.kit.store
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    try:
        await update_product(store, sku, changes)
    except UnknownSku as exc:
        raise NotFound(detail=str(exc)) from exc
    except GtinTaken as exc:
        raise Conflict(detail=str(exc)) from exc
    except ProductError as exc:
        raise _refused(exc) from exc
    product = await get_product(store.db, sku)
    assert product is not None
    return await _product_out(request, product)


class DiscontinueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=500)


@router.post(
    "/products/{sku}/discontinue",
    dependencies=[Depends(require_scope("catalog:write"))],
    responses=problem_responses(401, 403, 404, 409, 413, 422),
    summary="Discontinue a product (emits ProductDiscontinued); its data and history stay",
)
async def post_discontinue(
    request: Request,
    sku: SkuPath,
    body: Annotated[
        DiscontinueIn,
        Body(
            openapi_examples={
                "eol": {
                    "summary": "End of line",
                    "value": {"reason": "Hersteller liefert nicht mehr"},
                }
            }
        ),
    ],
) -> ProductOut:
    store = request.app.state.kit.store
    try:
        product = await discontinue_product(store, sku, body.reason)
    except UnknownSku as exc:
        raise NotFound(detail=str(exc)) from exc
    except ProductError as exc:
        current = await get_product(store.db, sku)
        assert current is not None
        state = (await _product_out(request, current)).model_dump(mode="json")
        raise Conflict(detail=str(exc), extra={"current_state": state}) from exc
    return await _product_out(request, product)


class ProductPage(BaseModel):
    items: list[ProductOut]
    total: int = Field(description="Matches in all pages")
    page: int
    page_size: int


@router.get(
    "/products",
    dependencies=[Depends(require_scope("catalog:read"))],
    responses=problem_responses(401, 403, 422),
    summary="Search and filter products, paginated with the total count",
    description="`q`: every word must be the start of a word of the SKU, GTIN, German or "
    "English name, brand or attribute values (case-insensitive, umlauts folded: 'groesse' "
    "finds 'Größe'). `category` includes its subcategories. Prices are gross. `in_stock`: "
    "available in some warehouse. Sorted by SKU.",
)
async def list_products(
    request: Request,
    q: Annotated[str | None, Query(max_length=200, examples=["t-shirt rot"])] = None,
    category: Annotated[str | None, Query(max_length=64, examples=["t-shirts"])] = None,
    min_price: Annotated[MoneyAmount | None, Query(examples=["10.00"])] = None,
    max_price: Annotated[MoneyAmount | None, Query(examples=["50.00"])] = None,
    in_stock: Annotated[bool | None, Query(examples=[True])] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ProductPage:
    db = request.app.state.kit.store.db
    stocked = await skus_in_stock(db) if in_stock is not None else None
    query = ProductQuery(
        q=q,
        categories=await subtree(db, category) if category is not None else None,
        min_price=min_price,
        max_price=max_price,
        page=page,
        page_size=page_size,
    )
    if in_stock is True:
        query = replace(query, skus=stocked)
    products, total = await find_products(
        db, query, exclude_skus=stocked if in_stock is False else None
    )
    return ProductPage(
        items=[await _product_out(request, product) for product in products],
        total=total,
        page=page,
        page_size=page_size,
    )
