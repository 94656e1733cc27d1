"""HTTP routes of the assortment."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response, status
from kontor_servicekit.apitypes import (
    Count,
    Instant,
    MoneyAmount,
    Page,
    PageOut,
    QueryBool,
    QueryInt,
    StockCount,
    UnitGrossPrice,
    UnitPrice,
)
from kontor_servicekit.auth import require_scope
from kontor_servicekit.errors import problem_responses
from kontor_servicekit.idempotency import IdempotencyKey
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.config import JsonDict

from kontor_catalog.api.images import ImageOut
from kontor_catalog.application.products import (
    ChangePrice,
    CreateProduct,
    change_price,
    create_product,
    discontinue_product,
    update_product,
)
from kontor_catalog.context import Context
from kontor_catalog.domain.errors import UnknownProduct
from kontor_catalog.domain.product_view import ProductView

router = APIRouter(tags=["products"])

SkuPath = Annotated[str, Path(min_length=1, max_length=64, examples=["TEE-RED-M"])]


def _left_out_or_amount(description: str) -> Any:
    """A money field that may be left out but, when given, is a decimal string.

    The schema says exactly that: type string, no ``null`` branch and no ``default:
    null`` (an explicit ``null`` is refused, see ``_given_means_an_amount``)."""

    def schema(field: JsonDict) -> None:
        field.pop("default", None)
        branches = field.pop("anyOf", [])
        assert isinstance(branches, list)
        for branch in branches:
            if isinstance(branch, dict) and branch.get("type") != "null":
                for key, value in branch.items():
                    field.setdefault(key, value)  # the field's own description wins

    return Field(default=None, description=description, json_schema_extra=schema)


def _given_means_an_amount(value: object) -> object:
    if value is None:
        raise ValueError("a price is a decimal string; leave the field out instead of null")
    return value


class PriceIn(BaseModel):
    """Net (B2B) or gross (B2C, the price the shop displays): exactly one of them."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"oneOf": [{"required": ["net"]}, {"required": ["gross"]}]},
    )
    net: UnitPrice | None = _left_out_or_amount("Net price per piece")
    gross: UnitGrossPrice | None = _left_out_or_amount(
        "Gross price per piece as displayed (B2C); kept exactly, the net is derived to four places"
    )
    currency: Literal["EUR"] = "EUR"

    _no_null = field_validator("net", "gross", mode="before")(_given_means_an_amount)

    @model_validator(mode="after")
    def _net_or_gross(self) -> PriceIn:
        if (self.net is None) == (self.gross is None):
            raise ValueError("give either net or gross")
        return self


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
    stock: StockCount = 0
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
    weight_grams: Count | None = Field(
        default=None, ge=0, le=10_000_000, description="Shipping weight per piece"
    )


class PriceOut(BaseModel):
    net: MoneyAmount
    gross: MoneyAmount
    entered: Literal["net", "gross"] = Field(
        default="net", description="Which of the two was entered (the other is derived)"
    )
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
    created_at: Instant
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
    discontinued_at: Instant | None = None

    @classmethod
    def of(cls, view: ProductView) -> ProductOut:
        """Prices by the PAngV, stock, variants and images as the domain derives them."""
        return cls.model_validate(view.as_dict())


@router.post(
    "/products",
    status_code=status.HTTP_201_CREATED,
    response_model=ProductOut,
    dependencies=[Depends(require_scope("catalog:write"))],
    responses=problem_responses(401, 403, 409, 413, 422),
    summary="Add a product to the assortment (emits ProductCreated)",
    description="With an `Idempotency-Key` a retry answers the first answer again.",
)
async def post_product(
    ctx: Context, request: Request, body: ProductIn, idempotency_key: IdempotencyKey = None
) -> Response:
    command = create_command(body)
    return await ctx.answers.respond(
        request,
        ctx.transactor,
        lambda transactor: create_product(transactor, command, clock=ctx.clock),
        present=ProductOut.of,
        status_code=status.HTTP_201_CREATED,
        key=idempotency_key,
        body=body,
        location=lambda out: f"/products/{out.sku}",
    )


def create_command(body: ProductIn) -> CreateProduct:
    """The command of a checked product (POST /products and each row of the CSV import)."""
    return CreateProduct(
        sku=body.sku,
        name=body.name,
        description=body.description,
        gtin=body.gtin,
        price_net=body.price.net,
        price_gross=body.price.gross,
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
    )


@router.get(
    "/products/{sku}",
    dependencies=[Depends(require_scope("catalog:read"))],
    responses=problem_responses(401, 403, 404),
    summary="One product",
)
async def read_product(ctx: Context, sku: SkuPath) -> ProductOut:
    view = await ctx.products.one(sku)
    if view is None:
        raise UnknownProduct(sku)
    return ProductOut.of(view)


class PriceChangeIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "not": {"required": ["net", "gross"]},
            "anyOf": [
                {"required": ["net"]},
                {"required": ["gross"]},
                # vat_class alone (null means unchanged, so alone it must be a class)
                {"required": ["vat_class"], "properties": {"vat_class": {"type": "string"}}},
            ],
        },
    )
    net: UnitPrice | None = _left_out_or_amount("New net price per piece")
    gross: UnitGrossPrice | None = _left_out_or_amount(
        "New gross price per piece as displayed (instead of net)"
    )
    currency: Literal["EUR"] = "EUR"
    vat_class: Literal["standard", "reduced", "zero"] | None = Field(
        default=None,
        description="New VAT class; unchanged if left out. Alone it keeps the price as "
        "entered: a gross-entered price keeps its gross",
    )

    _no_null = field_validator("net", "gross", mode="before")(_given_means_an_amount)

    @model_validator(mode="after")
    def _one_price(self) -> PriceChangeIn:
        if self.net is not None and self.gross is not None:
            raise ValueError("give either net or gross")
        if self.net is None and self.gross is None and self.vat_class is None:
            raise ValueError("give net, gross or vat_class")
        return self


@router.put(
    "/products/{sku}/price",
    response_model=ProductOut,
    dependencies=[Depends(require_scope("catalog:write"))],
    responses=problem_responses(401, 403, 404, 413, 422),
    summary="Change the price or VAT class (emits ProductPriceChanged if anything changed)",
    description="Every price is kept in the product's price history; the response shows "
    "the lowest price of the previous 30 days and, for a reduction, the strike-through "
    "price (§11 PAngV). Setting the current price again changes and emits nothing.",
)
async def put_price(
    ctx: Context,
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
                "gross": {
                    "summary": "A new displayed gross price (B2C)",
                    "value": {"gross": "14.99", "currency": "EUR"},
                },
            }
        ),
    ],
) -> Response:
    command = ChangePrice(sku, body.net, body.vat_class, price_gross=body.gross)
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: change_price(transactor, command, clock=ctx.clock),
        present=ProductOut.of,
    )


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
    weight_grams: Count | None = Field(default=None, ge=0, le=10_000_000)


@router.patch(
    "/products/{sku}",
    response_model=ProductOut,
    dependencies=[Depends(require_scope("catalog:write"))],
    responses=problem_responses(401, 403, 404, 409, 413, 422),
    summary="Change descriptive data (emits ProductUpdated with changed_fields)",
    description="Names, descriptions (German and English), brand, GTIN, categories and "
    "attributes. Prices change via PUT /products/{sku}/price. Nothing changed: no event.",
)
async def patch_product(
    ctx: Context,
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
) -> Response:
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: update_product(transactor, sku, changes),
        present=ProductOut.of,
    )


class DiscontinueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=500)


@router.post(
    "/products/{sku}/discontinue",
    response_model=ProductOut,
    dependencies=[Depends(require_scope("catalog:write"))],
    responses=problem_responses(401, 403, 404, 409, 413, 422),
    summary="Discontinue a product (emits ProductDiscontinued); its data and history stay",
)
async def post_discontinue(
    ctx: Context,
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
) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: discontinue_product(transactor, sku, body.reason, clock=ctx.clock),
        present=ProductOut.of,
    )


class ProductPage(PageOut[ProductOut]):
    """A page of products (the kit's one list shape)."""


@router.get(
    "/products",
    dependencies=[Depends(require_scope("catalog:read"))],
    responses=problem_responses(401, 403, 422),
    summary="Search and filter products, paginated with the total count",
    description="`q`: every word must be the start of a word of the SKU, GTIN, German or "
    "English name, brand or attribute values (case-insensitive, umlauts folded: 'groesse' "
    "finds 'Größe'); a `q` with no letter or digit (only emoji or punctuation) finds "
    "nothing. `category` includes its subcategories. Prices are gross. `in_stock`: "
    "available in some warehouse. Sorted by SKU.",
)
async def list_products(
    ctx: Context,
    q: Annotated[str | None, Query(max_length=200, examples=["t-shirt rot"])] = None,
    category: Annotated[str | None, Query(max_length=64, examples=["t-shirts"])] = None,
    min_price: Annotated[MoneyAmount | None, Query(examples=["10.00"])] = None,
    max_price: Annotated[MoneyAmount | None, Query(examples=["50.00"])] = None,
    in_stock: Annotated[QueryBool | None, Query(examples=[True])] = None,
    page: Page = 1,
    page_size: Annotated[QueryInt, Query(ge=1, le=100)] = 20,
) -> ProductPage:
    found = await ctx.products.search(
        q=q,
        category=category,
        min_price=min_price,
        max_price=max_price,
        in_stock=in_stock,
        page=page,
        page_size=page_size,
    )
    return ProductPage(
        items=[ProductOut.of(view) for view in found.items],
        total=found.total,
        page=page,
        page_size=page_size,
    )
