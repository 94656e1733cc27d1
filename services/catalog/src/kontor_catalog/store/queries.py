"""The catalog's read side: what the routes show, answered straight from the database.

A page of products takes a constant number of round trips, whatever its size: the
page and its count, then one ``$in`` query each for the stock levels, price
histories, variants and images of all SKUs on it (run side by side).
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bson.decimal128 import Decimal128
from kontor_servicekit.blobs import Blob
from pymongo.asynchronous.database import AsyncDatabase

from kontor_catalog.domain.category import Category
from kontor_catalog.domain.csv_format import csv_record
from kontor_catalog.domain.images import ProductImage
from kontor_catalog.domain.product import Product
from kontor_catalog.domain.product_view import ProductView
from kontor_catalog.domain.shipping import ShippingMethod
from kontor_catalog.domain.stock import StockSummary
from kontor_catalog.store import categories as category_docs
from kontor_catalog.store import images as image_docs
from kontor_catalog.store import shipping as method_docs
from kontor_catalog.store.categories import CATEGORIES
from kontor_catalog.store.images import IMAGES, blobs
from kontor_catalog.store.products import (
    PRICE_HISTORY,
    PRODUCTS,
    from_document,
    normalise_words,
    price_point,
)
from kontor_catalog.store.shipping import SHIPPING_METHODS
from kontor_catalog.store.stock import STOCK, level_of

Document = dict[str, Any]


@dataclass(frozen=True)
class ProductPage:
    items: list[ProductView]
    total: int
    """Matches in all pages."""


class ProductQueries:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def one(self, sku: str) -> ProductView | None:
        doc = await self.db[PRODUCTS].find_one({"_id": sku})
        if doc is None:
            return None
        [view] = await self.views([from_document(doc)])
        return view

    async def search(
        self,
        *,
        q: str | None = None,
        category: str | None = None,
        min_price: Decimal | None = None,
        max_price: Decimal | None = None,
        in_stock: bool | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> ProductPage:
        """One page of matching products (by SKU) and the total count of matches.

        ``q``: every word must start a word of SKU, GTIN, names, brand or attribute
        values; ``category`` includes its subcategories; prices are gross; ``in_stock``
        True: available in some warehouse, False: in none.
        """
        flt = await self._filter(q, category, min_price, max_price, in_stock)
        total = await self.db[PRODUCTS].count_documents(flt)
        cursor = (
            self.db[PRODUCTS].find(flt).sort("_id", 1).skip((page - 1) * page_size).limit(page_size)
        )
        products = [from_document(doc) async for doc in cursor]
        return ProductPage(items=await self.views(products), total=total)

    async def views(self, products: Sequence[Product]) -> list[ProductView]:
        """The products as shown, in four queries for all of them."""
        if not products:
            return []
        skus = [product.sku for product in products]
        levels, prices, variants, images = await asyncio.gather(
            self.db[STOCK].find({"sku": {"$in": skus}}).to_list(None),
            self.db[PRICE_HISTORY]
            .find({"sku": {"$in": skus}})
            .sort([("effective_at", 1), ("_id", 1)])
            .to_list(None),
            self.db[PRODUCTS]
            .find({"parent_sku": {"$in": skus}}, {"_id": 1, "parent_sku": 1})
            .sort("_id", 1)
            .to_list(None),
            self.db[IMAGES].find({"sku": {"$in": skus}}).sort("position", 1).to_list(None),
        )
        available: dict[str, int] = defaultdict(int)
        for doc in levels:
            level = level_of(doc)
            available[level.sku] += level.available
        history: dict[str, list[Document]] = defaultdict(list)
        for doc in prices:
            history[doc["sku"]].append(doc)
        variants_of: dict[str, list[str]] = defaultdict(list)
        for doc in variants:
            variants_of[doc["parent_sku"]].append(doc["_id"])
        images_of: dict[str, list[ProductImage]] = defaultdict(list)
        for doc in images:
            images_of[doc["sku"]].append(image_docs.from_document(doc))
        return [
            ProductView(
                product,
                available=available[product.sku],
                history=tuple(price_point(doc, product.currency) for doc in history[product.sku]),
                variants=tuple(variants_of[product.sku]),
                images=tuple(images_of[product.sku]),
            )
            for product in products
        ]

    async def csv_records(self) -> list[Document]:
        """Every product as a CSV record; parents before variants, so the file imports as is.

        ``stock`` is what is on hand in all warehouses (an import puts it in the default one).
        """
        on_hand: dict[str, int] = defaultdict(int)
        async for level in self.db[STOCK].find({}, {"sku": 1, "on_hand": 1}):
            on_hand[level["sku"]] += level["on_hand"]
        cursor = self.db[PRODUCTS].find().sort([("parent_sku", 1), ("_id", 1)])
        return [csv_record(from_document(doc), on_hand[doc["_id"]]) async for doc in cursor]

    async def _filter(
        self,
        q: str | None,
        category: str | None,
        min_price: Decimal | None,
        max_price: Decimal | None,
        in_stock: bool | None,
    ) -> Document:
        conditions: list[Document] = []
        words = normalise_words(q or "")
        if q and q.strip() and not words:
            # only emoji, punctuation or letters no term is made of: nothing can match
            # (not "no filter", which would answer every product)
            conditions.append({"_id": {"$in": []}})
        for word in words:
            conditions.append({"search_terms": {"$regex": f"^{re.escape(word)}"}})
        if category is not None:
            conditions.append({"categories": {"$in": await self._subtree(category)}})
        price: Document = {}
        if min_price is not None:
            price["$gte"] = Decimal128(min_price)
        if max_price is not None:
            price["$lte"] = Decimal128(max_price)
        if price:
            conditions.append({"price_gross": price})
        if in_stock is not None:
            stocked = [
                str(s) for s in await self.db[STOCK].distinct("sku", {"available": {"$gt": 0}})
            ]
            conditions.append({"_id": {"$in" if in_stock else "$nin": stocked}})
        if not conditions:
            return {}
        return conditions[0] if len(conditions) == 1 else {"$and": conditions}

    async def _subtree(self, category_id: str) -> list[str]:
        """The category and all its descendants (empty if it does not exist)."""
        if await self.db[CATEGORIES].find_one({"_id": category_id}, {"_id": 1}) is None:
            return []
        below = self.db[CATEGORIES].find({"path": category_id}, {"_id": 1})
        return [category_id, *[doc["_id"] async for doc in below]]


class StockQueries:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def of(self, sku: str) -> StockSummary | None:
        """The stock of a product by warehouse; None if there is no such product."""
        if await self.db[PRODUCTS].find_one({"_id": sku}, {"_id": 1}) is None:
            return None
        cursor = self.db[STOCK].find({"sku": sku}).sort("warehouse", 1)
        return StockSummary(sku, tuple([level_of(doc) async for doc in cursor]))


class CategoryQueries:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def all(self) -> list[Category]:
        docs = await self.db[CATEGORIES].find().sort([("path", 1), ("_id", 1)]).to_list()
        return [category_docs.from_document(doc) for doc in docs]

    async def one(self, category_id: str) -> Category | None:
        doc = await self.db[CATEGORIES].find_one({"_id": category_id})
        return None if doc is None else category_docs.from_document(doc)


class ImageQueries:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def of_product(self, sku: str) -> list[ProductImage] | None:
        """The images of a product in order; None if there is no such product."""
        if await self.db[PRODUCTS].find_one({"_id": sku}, {"_id": 1}) is None:
            return None
        docs = await self.db[IMAGES].find({"sku": sku}).sort("position", 1).to_list()
        return [image_docs.from_document(doc) for doc in docs]

    async def blob(self, sku: str, image_id: str) -> Blob | None:
        """The bytes of image ``image_id`` if it is registered as an image of ``sku``."""
        if await self.db[IMAGES].find_one({"_id": image_id, "sku": sku}, {"_id": 1}) is None:
            return None
        return await blobs(self.db).get(image_id)


class ShippingQueries:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def all(self) -> list[ShippingMethod]:
        docs = await self.db[SHIPPING_METHODS].find().sort("_id", 1).to_list()
        return [method_docs.from_document(doc) for doc in docs]

    async def one(self, method_id: str) -> ShippingMethod | None:
        doc = await self.db[SHIPPING_METHODS].find_one({"_id": method_id})
        return None if doc is None else method_docs.from_document(doc)
