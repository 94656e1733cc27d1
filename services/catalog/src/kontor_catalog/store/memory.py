"""The catalog's unit of work in memory: the unit tests' database.

The same repositories as ``store/unit_of_work.py`` over :class:`FakeDatabase` tables
(copies in, copies out). What only the database enforces is mirrored: unique SKUs,
GTINs, category and method ids, and stock levels that never go negative.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kontor_servicekit.fakes import FakeDatabase, FakeUnitOfWork, InMemoryTable

from kontor_catalog.application.unit_of_work import (
    CategoryRepository,
    ImageRepository,
    ProductRepository,
    ReservationRepository,
    ShipmentRepository,
    ShippingMethodRepository,
    StockRepository,
)
from kontor_catalog.domain.category import Category, CategoryTaken
from kontor_catalog.domain.errors import GtinTaken, SkuTaken
from kontor_catalog.domain.images import ProductImage
from kontor_catalog.domain.pricing import PricePoint
from kontor_catalog.domain.product import Product
from kontor_catalog.domain.shipping import MethodTaken, ShippingMethod
from kontor_catalog.domain.stock import ArticleStock, Reservation, StockLevel
from kontor_catalog.store.stock import StockChanged, level_id


@dataclass(frozen=True)
class StoredPrice:
    id: str
    sku: str
    point: PricePoint


@dataclass(frozen=True)
class BookedShipment:
    shipment_id: str
    order_id: str
    booked_at: datetime


class InMemoryProductRepository:
    def __init__(self, table: InMemoryTable[Product], prices: InMemoryTable[StoredPrice]) -> None:
        self.table = table
        self.prices = prices

    async def get(self, sku: str) -> Product | None:
        return self.table.get(sku)

    async def exists(self, sku: str) -> bool:
        return self.table.get(sku) is not None

    async def gtin_holder(self, gtin: str, *, other_than: str) -> str | None:
        found = self.table.where(lambda p: p.gtin == gtin and p.sku != other_than)
        return found[0].sku if found else None

    def _check_gtin(self, product: Product) -> None:
        if product.gtin is not None and self.table.where(
            lambda p: p.gtin == product.gtin and p.sku != product.sku
        ):
            raise GtinTaken(product.gtin)

    async def add(self, product: Product) -> None:
        if self.table.get(product.sku) is not None:
            raise SkuTaken(product.sku)
        self._check_gtin(product)
        self.table.insert(product)
        await self.record_price(product.sku, product.first_price)

    async def save(self, product: Product) -> None:
        self._check_gtin(product)
        product.version += 1
        self.table.put(product)

    async def record_price(self, sku: str, point: PricePoint) -> None:
        self.prices.insert(StoredPrice(f"{sku}#{len(self.prices)}", sku, point))

    async def price_history(self, sku: str, *, currency: str) -> list[PricePoint]:
        stored = self.prices.where(lambda p: p.sku == sku)  # in insertion order
        points = sorted(stored, key=lambda p: p.point.effective_at)
        return [
            PricePoint(p.point.effective_at, p.point.net, p.point.vat_class, currency)
            for p in points
        ]

    async def variants_of(self, sku: str) -> list[str]:
        return sorted(p.sku for p in self.table.where(lambda p: p.parent_sku == sku))


class InMemoryCategoryRepository:
    def __init__(self, table: InMemoryTable[Category]) -> None:
        self.table = table

    async def get(self, category_id: str) -> Category | None:
        return self.table.get(category_id)

    async def add(self, category: Category) -> None:
        if self.table.get(category.id) is not None:
            raise CategoryTaken(category.id)
        self.table.insert(category)

    async def missing(self, ids: Sequence[str]) -> list[str]:
        return [category_id for category_id in ids if self.table.get(category_id) is None]


class InMemoryStockRepository:
    def __init__(self, table: InMemoryTable[StockLevel]) -> None:
        self.table = table

    async def of(self, skus: Iterable[str]) -> dict[str, ArticleStock]:
        stocks = {sku: ArticleStock(sku) for sku in sorted(set(skus))}
        for level in self.table.where(lambda level: level.sku in stocks):
            stocks[level.sku].levels[level.warehouse] = level
        return stocks

    async def save(self, stock: ArticleStock) -> None:
        for warehouse, move in stock.moves.items():
            key = level_id(stock.sku, warehouse)
            before = self.table.get(key) or StockLevel(stock.sku, warehouse, 0, 0)
            after = StockLevel(
                stock.sku, warehouse, before.on_hand + move.on_hand, before.reserved + move.reserved
            )
            if after.on_hand < 0 or after.reserved < 0 or after.available < 0:
                raise StockChanged(key)
            self.table.put(after)
        stock.moves.clear()


class InMemoryReservationRepository:
    def __init__(self, table: InMemoryTable[Reservation]) -> None:
        self.table = table

    async def get(self, order_id: str) -> Reservation | None:
        return self.table.get(order_id)

    async def add(self, reservation: Reservation) -> None:
        self.table.insert(reservation)

    async def save(self, reservation: Reservation) -> None:
        self.table.put(reservation)


class InMemoryShipmentRepository:
    def __init__(self, table: InMemoryTable[BookedShipment]) -> None:
        self.table = table

    async def book(self, shipment_id: str, order_id: str, now: datetime) -> bool:
        if self.table.get(shipment_id) is not None:
            return False
        self.table.insert(BookedShipment(shipment_id, order_id, now))
        return True


class InMemoryShippingMethodRepository:
    def __init__(self, table: InMemoryTable[ShippingMethod]) -> None:
        self.table = table

    async def get(self, method_id: str) -> ShippingMethod | None:
        return self.table.get(method_id)

    async def add(self, method: ShippingMethod) -> None:
        if self.table.get(method.method_id) is not None:
            raise MethodTaken(method.method_id)
        self.table.insert(method)

    async def replace(self, method: ShippingMethod) -> None:
        self.table.put(method)


class InMemoryImageRepository:
    def __init__(self, table: InMemoryTable[ProductImage]) -> None:
        self.table = table

    async def of(self, sku: str) -> list[ProductImage]:
        return sorted(self.table.where(lambda i: i.sku == sku), key=lambda i: i.position)

    async def add(self, image: ProductImage) -> None:
        self.table.insert(image)

    async def save(self, image: ProductImage) -> None:
        self.table.put(image)

    async def remove(self, image_id: str) -> None:
        self.table.delete(image_id)


class InMemoryCatalogUnitOfWork(FakeUnitOfWork):
    def __init__(self, db: FakeDatabase) -> None:
        super().__init__(db)
        self.products: ProductRepository = InMemoryProductRepository(
            self.table("products", key=lambda p: p.sku),
            self.table("price_history", key=lambda p: p.id),
        )
        self.categories: CategoryRepository = InMemoryCategoryRepository(
            self.table("categories", key=lambda c: c.id)
        )
        self.stock: StockRepository = InMemoryStockRepository(
            self.table("stock", key=lambda level: level_id(level.sku, level.warehouse))
        )
        self.reservations: ReservationRepository = InMemoryReservationRepository(
            self.table("reservations", key=lambda r: r.order_id)
        )
        self.shipments: ShipmentRepository = InMemoryShipmentRepository(
            self.table("shipments", key=lambda s: s.shipment_id)
        )
        self.shipping_methods: ShippingMethodRepository = InMemoryShippingMethodRepository(
            self.table("shipping_methods", key=lambda m: m.method_id)
        )
        self.images: ImageRepository = InMemoryImageRepository(
            self.table("product_images", key=lambda i: i.id)
        )


@dataclass
class InMemoryBlobs:
    """Image bytes in memory (the blob store of the unit tests)."""

    blobs: dict[str, tuple[bytes, str, dict[str, Any]]] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=itertools.count)

    async def put(
        self,
        data: bytes,
        *,
        filename: str,
        content_type: str,
        metadata: Mapping[str, Any] | None = None,
    ) -> str:
        blob_id = f"blob-{next(self._ids)}"
        self.blobs[blob_id] = (data, content_type, {"filename": filename, **(metadata or {})})
        return blob_id

    async def delete(self, blob_id: str) -> None:
        self.blobs.pop(blob_id, None)
