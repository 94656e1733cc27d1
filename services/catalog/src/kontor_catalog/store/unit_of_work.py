"""The catalog's unit of work over one MongoDB transaction.

Each repository is declared with its protocol's type, so mypy checks that the Mongo
repositories implement them (and the unit of work is a ``CatalogUnitOfWork``).
"""

from __future__ import annotations

from kontor_servicekit.store import Transaction
from kontor_servicekit.uow import MongoUnitOfWork

from kontor_catalog.application.unit_of_work import (
    CategoryRepository,
    ImageRepository,
    ProductRepository,
    ReservationRepository,
    ShipmentRepository,
    ShippingMethodRepository,
    StockRepository,
)
from kontor_catalog.store.categories import MongoCategoryRepository
from kontor_catalog.store.images import MongoImageRepository
from kontor_catalog.store.products import MongoProductRepository
from kontor_catalog.store.shipping import MongoShippingMethodRepository
from kontor_catalog.store.stock import (
    MongoReservationRepository,
    MongoShipmentRepository,
    MongoStockRepository,
)


class MongoCatalogUnitOfWork(MongoUnitOfWork):
    def __init__(self, tx: Transaction) -> None:
        super().__init__(tx)
        self.products: ProductRepository = MongoProductRepository(tx)
        self.categories: CategoryRepository = MongoCategoryRepository(tx)
        self.stock: StockRepository = MongoStockRepository(tx)
        self.reservations: ReservationRepository = MongoReservationRepository(tx)
        self.shipments: ShipmentRepository = MongoShipmentRepository(tx)
        self.shipping_methods: ShippingMethodRepository = MongoShippingMethodRepository(tx)
        self.images: ImageRepository = MongoImageRepository(tx)
