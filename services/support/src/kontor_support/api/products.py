"""Product advice: search support's product read model (from catalog's events)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from kontor_servicekit.apitypes import Page, PageOut, QueryBool, QueryInt
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, Field

from kontor_support.api.chats import Reader
from kontor_support.context import Context
from kontor_support.domain.products import query_words

router = APIRouter(tags=["products"])

PageSize = Annotated[QueryInt, Query(ge=1, le=200)]


class ProductOut(BaseModel):
    sku: str
    name: str | None
    description: str | None
    category: str | None
    brand: str | None
    parent_sku: str | None
    attributes: dict[str, str] = Field(description='A variant\'s attributes, e.g. {"size": "M"}')
    price_gross: str | None
    currency: str | None
    stock: int = Field(description="Pieces available, all warehouses")
    discontinued: bool

    @classmethod
    def of(cls, doc: dict[str, Any]) -> ProductOut:
        return cls(
            sku=doc["_id"],
            name=doc.get("name"),
            description=doc.get("description"),
            category=doc.get("category"),
            brand=doc.get("brand"),
            parent_sku=doc.get("parent_sku"),
            attributes=dict(doc.get("attributes") or {}),
            price_gross=doc.get("price_gross"),
            currency=doc.get("currency"),
            stock=int(doc.get("stock") or 0),
            discontinued=bool(doc.get("discontinued")),
        )


class ProductPage(PageOut[ProductOut]):
    words: list[str] = Field(description="The words every product found carries")


@router.get(
    "/products",
    responses=problem_responses(401, 403, 422),
    summary="Products by words of name, description, attributes (`blau M`, `size:m`)",
    description="Every word must match: a word of the name, description, category or "
    "brand, an attribute's value, or `key:value` of an attribute. In stock first.",
)
async def search_products(
    ctx: Context,
    _: Reader,
    q: Annotated[str, Query(max_length=200)] = "",
    in_stock: Annotated[QueryBool, Query()] = False,
    page: Page = 1,
    page_size: PageSize = 20,
) -> ProductPage:
    words = query_words(q)
    found = await ctx.products.search(words, in_stock=in_stock, page=page, page_size=page_size)
    return ProductPage(
        items=[ProductOut.of(doc) for doc in found.items],
        page=page,
        page_size=page_size,
        total=found.total,
        words=words,
    )
