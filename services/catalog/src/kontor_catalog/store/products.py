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
from typing import Any

from kontor_servicekit.store import Transaction
from pymongo.errors import DuplicateKeyError

from kontor_catalog.domain.errors import GtinTaken, SkuTaken
from kontor_catalog.domain.pricing import PricePoint
from kontor_catalog.domain.product import Product

PRODUCTS = "products"
PRICE_HISTORY = "price_history"

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_WORD = re.compile(r"[a-z0-9]+")


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
        "price_basis": product.price_basis,
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
        price_basis=doc.get("price_basis", "net"),
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


def price_document(sku: str, point: PricePoint) -> dict[str, Any]:
    return {
        "sku": sku,
        "effective_at": point.effective_at,
        "net": point.net,
        "vat_class": point.vat_class,
        "gross": point.gross,
    }


def price_point(doc: dict[str, Any], currency: str) -> PricePoint:
    """A stored price; ``currency`` is the product's (not stored per point)."""
    return PricePoint(doc["effective_at"], doc["net"], doc["vat_class"], currency)


def _duplicate(exc: DuplicateKeyError, product: Product) -> Exception:
    key = (exc.details or {}).get("keyPattern") or {}
    if "gtin" in key or ("gtin" in str(exc) and product.gtin):
        return GtinTaken(product.gtin or "")
    return SkuTaken(product.sku)


class MongoProductRepository:
    """``ProductRepository`` inside one Mongo transaction."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.products = tx.db[PRODUCTS]

    async def get(self, sku: str) -> Product | None:
        doc = await self.products.find_one({"_id": sku}, session=self.tx.session)
        return None if doc is None else from_document(doc)

    async def exists(self, sku: str) -> bool:
        doc = await self.products.find_one({"_id": sku}, {"_id": 1}, session=self.tx.session)
        return doc is not None

    async def gtin_holder(self, gtin: str, *, other_than: str) -> str | None:
        doc = await self.products.find_one(
            {"gtin": gtin, "_id": {"$ne": other_than}}, {"_id": 1}, session=self.tx.session
        )
        return None if doc is None else str(doc["_id"])

    async def add(self, product: Product) -> None:
        try:
            await self.products.insert_one(to_document(product), session=self.tx.session)
        except DuplicateKeyError as exc:
            raise _duplicate(exc, product) from exc
        await self.record_price(product.sku, product.first_price)

    async def save(self, product: Product) -> None:
        """Write the whole product back (descriptive changes, price, discontinuation)."""
        product.version += 1
        try:
            await self.products.replace_one(
                {"_id": product.sku}, to_document(product), session=self.tx.session
            )
        except DuplicateKeyError as exc:
            raise _duplicate(exc, product) from exc

    async def record_price(self, sku: str, point: PricePoint) -> None:
        await self.tx.db[PRICE_HISTORY].insert_one(
            price_document(sku, point), session=self.tx.session
        )

    async def price_history(self, sku: str, *, currency: str) -> list[PricePoint]:
        cursor = (
            self.tx.db[PRICE_HISTORY]
            .find({"sku": sku}, session=self.tx.session)
            .sort([("effective_at", 1), ("_id", 1)])
        )
        return [price_point(doc, currency) async for doc in cursor]

    async def variants_of(self, sku: str) -> list[str]:
        cursor = self.products.find({"parent_sku": sku}, {"_id": 1}, session=self.tx.session).sort(
            "_id", 1
        )
        return [doc["_id"] async for doc in cursor]
