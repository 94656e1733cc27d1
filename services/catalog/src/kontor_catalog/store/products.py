"""Products in the catalog's own database."""

from __future__ import annotations

from typing import Any

from kontor_servicekit.store import Transaction
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kontor_catalog.domain.pricing import PricePoint
from kontor_catalog.domain.product import Product
from kontor_catalog.store.stock import ensure_stock_indexes

PRODUCTS = "products"
PRICE_HISTORY = "price_history"


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
        "content_quantity": product.content_quantity,
        "content_unit": product.content_unit,
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
        content_quantity=doc.get("content_quantity"),
        content_unit=doc.get("content_unit"),
    )


class ProductRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def add(self, product: Product) -> None:
        try:
            await self.tx.db[PRODUCTS].insert_one(to_document(product), session=self.tx.session)
        except DuplicateKeyError as exc:
            raise SkuTaken(product.sku) from exc
        await self.record_price(
            product.sku, PricePoint(product.created_at, product.price_net, product.vat_class)
        )

    async def get(self, sku: str) -> Product | None:
        doc = await self.tx.db[PRODUCTS].find_one({"_id": sku}, session=self.tx.session)
        return None if doc is None else from_document(doc)

    async def set_price(self, product: Product, point: PricePoint) -> None:
        await self.tx.db[PRODUCTS].update_one(
            {"_id": product.sku},
            {
                "$set": {"price_net": point.net, "vat_class": point.vat_class},
                "$inc": {"version": 1},
            },
            session=self.tx.session,
        )
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


async def price_history(db: AsyncDatabase[dict[str, Any]], sku: str) -> list[PricePoint]:
    cursor = db[PRICE_HISTORY].find({"sku": sku}).sort([("effective_at", 1), ("_id", 1)])
    return [PricePoint(doc["effective_at"], doc["net"], doc["vat_class"]) async for doc in cursor]


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await ensure_stock_indexes(db)
    await db[PRICE_HISTORY].create_index([("sku", 1), ("effective_at", 1)], name="sku_time")
    # The SKU is the _id: unique by construction. GTINs are unique where given.
    await db[PRODUCTS].create_index(
        "gtin",
        unique=True,
        name="gtin_unique",
        partialFilterExpression={"gtin": {"$type": "string"}},
    )
