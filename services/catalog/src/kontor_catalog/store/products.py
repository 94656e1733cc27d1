"""Products, their price history and search terms in the catalog's own database.

Search works without text indexes (SecantusDB has none): each product stores
``search_terms``, the normalised lower-case words of its SKU, GTIN, names, brand and
attributes (umlauts folded: "Größe" -> "groesse", and accents stripped), in a multikey
index; a query word matches a term it is a prefix of, via an anchored regex
(``^word``), which MongoDB answers from the index.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bson.decimal128 import Decimal128
from kontor_servicekit.store import Transaction
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kontor_catalog.domain.pricing import PricePoint
from kontor_catalog.domain.product import Product

PRODUCTS = "products"
PRICE_HISTORY = "price_history"

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_WORD = re.compile(r"[a-z0-9]+")


class SkuTaken(Exception):
    def __init__(self, sku: str) -> None:
        super().__init__(f"a product with SKU {sku!r} exists already")
        self.sku = sku


class GtinTaken(Exception):
    def __init__(self, gtin: str) -> None:
        super().__init__(f"another product has GTIN {gtin!r}")
        self.gtin = gtin


def normalise_words(text: str) -> list[str]:
    """Lower-case words with umlauts folded (ä -> ae) and other accents stripped."""
    folded = text.lower().translate(_FOLD)
    plain = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    return _WORD.findall(plain)


def search_terms(product: Product) -> list[str]:
    texts = [product.sku, product.gtin or "", product.name, product.name_en or ""]
    texts += [product.brand or "", *product.attributes.values()]
    texts += list((product.variant_attributes or {}).values())
    terms = {product.sku.lower()}
    for text in texts:
        terms.update(normalise_words(text))
    return sorted(terms)


def to_document(product: Product) -> dict[str, Any]:
    return {
        "_id": product.sku,
        "name": product.name,
        "name_en": product.name_en,
        "description": product.description,
        "description_en": product.description_en,
        "brand": product.brand,
        "gtin": product.gtin,
        "categories": product.categories,
        "attributes": product.attributes,
        "parent_sku": product.parent_sku,
        "variant_attributes": product.variant_attributes,
        "price_net": product.price_net,
        "price_gross": product.price_gross,
        "currency": product.currency,
        "vat_class": product.vat_class,
        "stock": product.stock,
        "discontinued": product.discontinued,
        "discontinued_at": product.discontinued_at,
        "discontinue_reason": product.discontinue_reason,
        "created_at": product.created_at,
        "version": product.version,
        "content_quantity": product.content_quantity,
        "content_unit": product.content_unit,
        "weight_grams": product.weight_grams,
        "search_terms": search_terms(product),
    }


def from_document(doc: dict[str, Any]) -> Product:
    return Product(
        sku=doc["_id"],
        name=doc["name"],
        name_en=doc.get("name_en"),
        description=doc.get("description"),
        description_en=doc.get("description_en"),
        brand=doc.get("brand"),
        gtin=doc.get("gtin"),
        categories=list(doc.get("categories") or []),
        attributes=dict(doc.get("attributes") or {}),
        parent_sku=doc.get("parent_sku"),
        variant_attributes=doc.get("variant_attributes"),
        price_net=doc["price_net"],
        currency=doc["currency"],
        vat_class=doc["vat_class"],
        stock=doc["stock"],
        discontinued=doc.get("discontinued", False),
        discontinued_at=doc.get("discontinued_at"),
        discontinue_reason=doc.get("discontinue_reason"),
        created_at=doc["created_at"],
        version=doc.get("version", 1),
        content_quantity=doc.get("content_quantity"),
        content_unit=doc.get("content_unit"),
        weight_grams=doc.get("weight_grams"),
    )


def _duplicate(exc: DuplicateKeyError, product: Product) -> Exception:
    key = (exc.details or {}).get("keyPattern") or {}
    if "gtin" in key or ("gtin" in str(exc) and product.gtin):
        return GtinTaken(product.gtin or "")
    return SkuTaken(product.sku)


class ProductRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.products = tx.db[PRODUCTS]

    async def add(self, product: Product) -> None:
        try:
            await self.products.insert_one(to_document(product), session=self.tx.session)
        except DuplicateKeyError as exc:
            raise _duplicate(exc, product) from exc
        await self.record_price(
            product.sku,
            PricePoint(product.created_at, product.price_net, product.vat_class, product.currency),
        )

    async def get(self, sku: str) -> Product | None:
        doc = await self.products.find_one({"_id": sku}, session=self.tx.session)
        return None if doc is None else from_document(doc)

    async def save(self, product: Product) -> None:
        """Write the whole product back (descriptive changes, discontinuation)."""
        product.version += 1
        try:
            await self.products.replace_one(
                {"_id": product.sku}, to_document(product), session=self.tx.session
            )
        except DuplicateKeyError as exc:
            raise _duplicate(exc, product) from exc

    async def set_price(self, product: Product, point: PricePoint) -> None:
        product.price_net, product.vat_class = point.net, point.vat_class
        await self.save(product)
        await self.record_price(product.sku, point)

    async def record_price(self, sku: str, point: PricePoint) -> None:
        await self.tx.db[PRICE_HISTORY].insert_one(
            {
                "sku": sku,
                "effective_at": point.effective_at,
                "net": point.net,
                "vat_class": point.vat_class,
                "gross": point.gross,
            },
            session=self.tx.session,
        )


async def get_product(db: AsyncDatabase[dict[str, Any]], sku: str) -> Product | None:
    doc = await db[PRODUCTS].find_one({"_id": sku})
    return None if doc is None else from_document(doc)


async def variants_of(db: AsyncDatabase[dict[str, Any]], sku: str) -> list[Product]:
    cursor = db[PRODUCTS].find({"parent_sku": sku}).sort("_id", 1)
    return [from_document(doc) async for doc in cursor]


async def price_history(
    db: AsyncDatabase[dict[str, Any]], sku: str, *, currency: str
) -> list[PricePoint]:
    """The prices of ``sku`` in order; ``currency`` is the product's (not stored per point)."""
    cursor = db[PRICE_HISTORY].find({"sku": sku}).sort([("effective_at", 1), ("_id", 1)])
    return [
        PricePoint(doc["effective_at"], doc["net"], doc["vat_class"], currency)
        async for doc in cursor
    ]


@dataclass(frozen=True)
class ProductQuery:
    q: str | None = None
    categories: list[str] | None = None
    """Any of these category ids (the caller expands a category to its subtree)."""
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    skus: list[str] | None = None
    """Only these SKUs (e.g. those in stock)."""
    page: int = 1
    page_size: int = 20


def product_filter(query: ProductQuery, exclude_skus: list[str] | None = None) -> dict[str, Any]:
    conditions: list[dict[str, Any]] = []
    for word in normalise_words(query.q or ""):
        conditions.append({"search_terms": {"$regex": f"^{re.escape(word)}"}})
    if query.categories is not None:
        conditions.append({"categories": {"$in": query.categories}})
    price: dict[str, Any] = {}
    if query.min_price is not None:
        price["$gte"] = Decimal128(query.min_price)
    if query.max_price is not None:
        price["$lte"] = Decimal128(query.max_price)
    if price:
        conditions.append({"price_gross": price})
    if query.skus is not None:
        conditions.append({"_id": {"$in": query.skus}})
    if exclude_skus is not None:
        conditions.append({"_id": {"$nin": exclude_skus}})
    if not conditions:
        return {}
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


async def find_products(
    db: AsyncDatabase[dict[str, Any]], query: ProductQuery, exclude_skus: list[str] | None = None
) -> tuple[list[Product], int]:
    """One page of matching products (by SKU) and the total count of matches."""
    flt = product_filter(query, exclude_skus)
    total = await db[PRODUCTS].count_documents(flt)
    cursor = (
        db[PRODUCTS]
        .find(flt)
        .sort("_id", 1)
        .skip((query.page - 1) * query.page_size)
        .limit(query.page_size)
    )
    return [from_document(doc) async for doc in cursor], total


async def ensure_product_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    # The SKU is the _id: unique by construction. GTINs are unique where given.
    await db[PRODUCTS].create_index(
        "gtin",
        unique=True,
        name="gtin_unique",
        partialFilterExpression={"gtin": {"$type": "string"}},
    )
    await db[PRODUCTS].create_index("search_terms", name="search_terms")
    await db[PRODUCTS].create_index("categories", name="categories")
    await db[PRODUCTS].create_index("price_gross", name="price_gross")
    await db[PRODUCTS].create_index("parent_sku", name="parent_sku", sparse=True)
    await db[PRICE_HISTORY].create_index([("sku", 1), ("effective_at", 1)], name="sku_time")
