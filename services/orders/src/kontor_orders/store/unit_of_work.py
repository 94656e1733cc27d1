"""The orders service's unit of work over one MongoDB transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kontor_contracts.envelope import Envelope
from kontor_servicekit.store import Transaction
from kontor_servicekit.uow import MongoUnitOfWork

from kontor_orders.store.carts import MongoCartRepository
from kontor_orders.store.catalog_products import MongoCatalogProducts
from kontor_orders.store.complaints import MongoComplaintRepository
from kontor_orders.store.coupons import MongoCoupons
from kontor_orders.store.orders import MongoOrderRepository
from kontor_orders.store.oss import MongoDistanceSales
from kontor_orders.store.photos import MongoPhotoIndex
from kontor_orders.store.privacy import MongoPersonalRecords, MongoPrivacyRequestRepository
from kontor_orders.store.returns import MongoReturnRepository, MongoWithdrawalRepository
from kontor_orders.store.shipping_methods import MongoShippingMethods


class MongoOrdersUnitOfWork(MongoUnitOfWork):
    def __init__(self, tx: Transaction) -> None:
        super().__init__(tx)
        self.orders = MongoOrderRepository(tx)
        self.carts = MongoCartRepository(tx)
        self.returns = MongoReturnRepository(tx)
        self.withdrawals = MongoWithdrawalRepository(tx)
        self.complaints = MongoComplaintRepository(tx)
        self.photos = MongoPhotoIndex(tx)
        self.products = MongoCatalogProducts(tx)
        self.shipping_methods = MongoShippingMethods(tx)
        self.coupons = MongoCoupons(tx)
        self.distance_sales = MongoDistanceSales(tx)
        self.privacy_requests = MongoPrivacyRequestRepository(tx)
        self.personal_records = MongoPersonalRecords(tx)


async def prefetch_orders(
    items: Sequence[tuple[Any, Envelope]], uow: MongoOrdersUnitOfWork
) -> None:
    """The orders a batch of events is about, read with one query (ADR 0150)."""
    await uow.orders.prefetch(
        [str(event.order_id) for event, _ in items if getattr(event, "order_id", None)]
    )
