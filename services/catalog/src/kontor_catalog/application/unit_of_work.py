"""What the catalog's use cases need of the database: repositories and the unit of work.

Implemented over MongoDB in ``store/unit_of_work.py`` and in memory in
``store/memory.py`` (for the unit tests).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from kontor_servicekit.uow import UnitOfWork

from kontor_catalog.domain.category import Category
from kontor_catalog.domain.images import ProductImage
from kontor_catalog.domain.pricing import PricePoint
from kontor_catalog.domain.product import Product
from kontor_catalog.domain.shipping import ShippingMethod
from kontor_catalog.domain.stock import ArticleStock, Reservation


class ProductRepository(Protocol):
    async def get(self, sku: str) -> Product | None: ...

    async def exists(self, sku: str) -> bool: ...

    async def gtin_holder(self, gtin: str, *, other_than: str) -> str | None:
        """The SKU of another product with ``gtin``, if there is one (read, no write)."""
        ...

    async def add(self, product: Product) -> None:
        """Store a new product and its first price; ``SkuTaken`` / ``GtinTaken`` if taken."""
        ...

    async def save(self, product: Product) -> None:
        """Write a changed product back (its version goes up); ``GtinTaken`` if taken."""
        ...

    async def record_price(self, sku: str, point: PricePoint) -> None:
        """Keep a new price in the product's history (§11 PAngV needs every one)."""
        ...

    async def price_history(self, sku: str, *, currency: str) -> list[PricePoint]:
        """Every price of ``sku``, oldest first; ``currency`` is the product's."""
        ...

    async def variants_of(self, sku: str) -> list[str]:
        """The SKUs of the product's variants, in order."""
        ...


class CategoryRepository(Protocol):
    async def get(self, category_id: str) -> Category | None: ...

    async def add(self, category: Category) -> None:
        """Store a new category; ``CategoryTaken`` if the id is."""
        ...

    async def missing(self, ids: Sequence[str]) -> list[str]:
        """Those of ``ids`` that name no category, in the given order."""
        ...


class StockRepository(Protocol):
    async def of(self, skus: Iterable[str]) -> dict[str, ArticleStock]:
        """The stock of each SKU (an article without levels has an empty one)."""
        ...

    async def save(self, stock: ArticleStock) -> None:
        """Write the levels that moved, each guarded so that none goes negative."""
        ...


class ReservationRepository(Protocol):
    async def get(self, order_id: str) -> Reservation | None: ...

    async def add(self, reservation: Reservation) -> None: ...

    async def save(self, reservation: Reservation) -> None: ...


class ShipmentRepository(Protocol):
    async def book(self, shipment_id: str, order_id: str, now: datetime) -> bool:
        """Record the shipment; False if it was booked already (a shipment leaves once)."""
        ...


class ShippingMethodRepository(Protocol):
    async def get(self, method_id: str) -> ShippingMethod | None: ...

    async def add(self, method: ShippingMethod) -> None:
        """Store a new method; ``MethodTaken`` if the id is."""
        ...

    async def replace(self, method: ShippingMethod) -> None: ...


class ImageRepository(Protocol):
    async def of(self, sku: str) -> list[ProductImage]:
        """The product's images in order."""
        ...

    async def add(self, image: ProductImage) -> None: ...

    async def save(self, image: ProductImage) -> None:
        """Store the image's (new) position."""
        ...

    async def remove(self, image_id: str) -> None: ...


class CatalogUnitOfWork(UnitOfWork, Protocol):
    products: ProductRepository
    categories: CategoryRepository
    stock: StockRepository
    reservations: ReservationRepository
    shipments: ShipmentRepository
    shipping_methods: ShippingMethodRepository
    images: ImageRepository
