"""Products in the catalog's own database."""

from __future__ import annotations

from typing import Any

from kontor_servicekit.store import Transaction
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kontor_catalog.domain.product import Product
from kontor_catalog.store.stock import ensure_stock_indexes

PRODUCTS = "products"


class SkuTaken(Exception):
    def __init__(self, sku: str) -> None:
        super().__init__(f"a product with SKU {sku!r} exists already")
        self.sku = sku


def to_document(product: Product) -> dict[str, Any]:
    return {
        "_id": product.sku,
        "name": product.name,
        "description": product.description,
        "gtin": product.gtin,
        "price_net": product.price_net,
        "currency": product.currency,
        "vat_class": product.vat_class,
        "stock": product.stock,
        "discontinued": product.discontinued,
        "created_at": product.created_at,
        "version": product.version,
    }


def from_document(doc: dict[str, Any]) -> Product:
    return Product(
        sku=doc["_id"],
        name=doc["name"],
        description=doc.get("description"),
        gtin=doc.get("gtin"),
        price_net=doc["price_net"],
        currency=doc["currency"],
        vat_class=doc["vat_class"],
        stock=doc["stock"],
        discontinued=doc.get("discontinued", False),
        created_at=doc["created_at"],
        version=doc.get("version", 1),
    )


class ProductRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def add(self, product: Product) -> None:
        try:
            await self.tx.db[PRODUCTS].insert_one(to_document(product), session=self.tx.session)
        except DuplicateKeyError as exc:
            raise SkuTaken(product.sku) from exc


async def get_product(db: AsyncDatabase[dict[str, Any]], sku: str) -> Product | None:
    doc = await db[PRODUCTS].find_one({"_id": sku})
    return None if doc is None else from_document(doc)


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await ensure_stock_indexes(db)
    # The SKU is the _id: unique by construction. GTINs are unique where given.
    await db[PRODUCTS].create_index(
        "gtin",
        unique=True,
        name="gtin_unique",
        partialFilterExpression={"gtin": {"$type": "string"}},
    )
