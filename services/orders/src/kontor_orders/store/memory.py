"""The orders service's unit of work in memory: the unit tests' database.

Each repository keeps copies in a table of the kit's ``FakeDatabase``; the read
models keep the same documents as MongoDB does (``catalog_products``,
``shipping_methods``), converted by the same functions, with the newest event
winning as in ``kontor_servicekit.projections``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar

from kontor_servicekit.clock import micros
from kontor_servicekit.domain_errors import Conflict
from kontor_servicekit.fakes import FakeDatabase, FakeUnitOfWork, InMemoryTable
from kontor_servicekit.projections import AS_OF, VERSION

from kontor_orders.domain.cart import Cart
from kontor_orders.domain.complaint import Complaint
from kontor_orders.domain.coupons import Article, Coupon, Uses
from kontor_orders.domain.order import Order, PricedProduct
from kontor_orders.domain.parties import email_key
from kontor_orders.domain.privacy import PrivacyRequest
from kontor_orders.domain.returns import Return, Withdrawal
from kontor_orders.domain.shipping import STANDARD, ShippingMethod
from kontor_orders.store.catalog_products import (
    CATALOG_PRODUCTS,
    articles_of,
    parents_wanted,
    priced_product,
)
from kontor_orders.store.coupons import COUPONS, REDEMPTIONS, counter_ids, coupon_of
from kontor_orders.store.oss import DISTANCE_SALES, InMemoryDistanceSales
from kontor_orders.store.photos import BUCKET
from kontor_orders.store.privacy import PRIVACY_REQUESTS
from kontor_orders.store.shipping_methods import SHIPPING_METHODS, requested_and_standard

Document = dict[str, Any]
Row = TypeVar("Row")


class InMemoryOrderRepository:
    def __init__(self, table: InMemoryTable[Order]) -> None:
        self.table = table

    async def add(self, order: Order) -> None:
        if await self.number_taken(order.number):  # the unique index number_unique
            raise Conflict(f"duplicate key {order.number!r}")
        self.table.insert(order)

    async def get(self, order_id: str) -> Order | None:
        return self.table.get(order_id)

    async def by_number(self, number: str) -> Order | None:
        found = self.table.where(lambda o: o.number == number)
        return found[0] if found else None

    async def number_taken(self, number: str) -> bool:
        return bool(self.table.where(lambda o: o.number == number))

    async def awaiting_prepayment(self, placed_before: datetime, limit: int = 100) -> list[str]:
        found = self.table.where(
            lambda o: (
                o.payment_method == "prepayment"
                and o.status == "confirmed"
                and o.placed_at <= placed_before
            )
        )
        return [o.id for o in sorted(found, key=lambda o: o.placed_at)][:limit]

    async def save(self, order: Order) -> None:
        order.version += 1
        self.table.put(order)


class InMemoryCartRepository:
    def __init__(self, table: InMemoryTable[Cart]) -> None:
        self.table = table

    async def add(self, cart: Cart) -> None:
        self.table.insert(cart)

    async def get(self, cart_id: str) -> Cart | None:
        return self.table.get(cart_id)

    async def save(self, cart: Cart) -> None:
        self.table.put(cart)

    async def quiet_checkouts(self, before: datetime, limit: int = 100) -> list[str]:
        quiet = self.table.where(lambda c: c.status == "checkout" and c.last_activity_at <= before)
        return [c.id for c in quiet[:limit]]


class InMemoryRepository(Generic[Row]):
    """add / get / save of one aggregate kind (returns, withdrawals, complaints)."""

    def __init__(self, table: InMemoryTable[Row]) -> None:
        self.table = table

    async def add(self, item: Row) -> None:
        self.table.insert(item)

    async def get(self, key: str) -> Row | None:
        return self.table.get(key)

    async def save(self, item: Row) -> None:
        self.table.put(item)


class InMemoryPhotoIndex:
    """The ids of uploaded photos (uploads themselves are not part of a unit of work)."""

    def __init__(self, table: InMemoryTable[str]) -> None:
        self.table = table

    def add(self, photo_id: str) -> None:
        self.table.put(photo_id)

    async def exists(self, photo_ids: list[str]) -> list[bool]:
        return [self.table.get(photo_id) is not None for photo_id in photo_ids]


def _upsert_if_newer(
    table: InMemoryTable[Document],
    key: str,
    doc: Mapping[str, Any],
    occurred_at: datetime,
    *,
    replace: bool,
) -> None:
    version = micros(occurred_at)
    current = table.get(key)
    if current is not None and current.get(VERSION, -1) > version:
        return
    base = {} if replace or current is None else current
    table.put({**base, **doc, "_id": key, VERSION: version, AS_OF: occurred_at})


class InMemoryCatalogProducts:
    def __init__(self, table: InMemoryTable[Document]) -> None:
        self.table = table

    async def priced(self, skus: list[str]) -> dict[str, PricedProduct]:
        found = (self.table.get(sku) for sku in skus)
        products = (priced_product(doc) for doc in found if doc is not None)
        return {p.sku: p for p in products if p is not None}

    async def apply(self, sku: str, facts: Mapping[str, Any], occurred_at: datetime) -> None:
        _upsert_if_newer(self.table, sku, facts, occurred_at, replace=False)

    async def mark_parent(self, sku: str) -> None:
        self.table.put({**(self.table.get(sku) or {"_id": sku}), "has_variants": True})

    def _docs(self, skus: list[str]) -> dict[str, Document]:
        return {sku: doc for sku in skus if (doc := self.table.get(sku)) is not None}

    async def articles(self, skus: list[str]) -> dict[str, Article]:
        docs = self._docs(skus)
        return articles_of(docs, self._docs(parents_wanted(docs)))


class InMemoryShippingMethods:
    def __init__(self, table: InMemoryTable[Document]) -> None:
        self.table = table

    async def with_standard(
        self, method_id: str
    ) -> tuple[ShippingMethod | None, ShippingMethod | None]:
        wanted = (self.table.get(key) for key in (method_id, STANDARD))
        return requested_and_standard({d["_id"]: d for d in wanted if d is not None}, method_id)

    async def replace(
        self, method_id: str, state: Mapping[str, Any], occurred_at: datetime
    ) -> None:
        _upsert_if_newer(self.table, method_id, state, occurred_at, replace=True)


class InMemoryCoupons:
    def __init__(self, table: InMemoryTable[Document], redemptions: InMemoryTable[Document]):
        self.table = table
        self.redemptions = redemptions

    async def known(self, codes: list[str]) -> dict[str, Coupon]:
        found = (self.table.get(code) for code in codes)
        return {d["_id"]: coupon_of(d) for d in found if d is not None and "kind" in d}

    async def used(self, codes: list[str]) -> set[str]:
        return {code for code in codes if self.redemptions.get(code) is not None}

    async def redeem(self, code: str, order_id: str, at: datetime) -> None:
        self.redemptions.insert({"_id": code, "order_id": order_id, "redeemed_at": at})

    async def uses(self, codes: list[str], customer: str) -> dict[str, Uses]:
        def count(counter: str) -> int:
            doc = self.redemptions.get(counter)
            return 0 if doc is None else int(doc["count"])

        return {code: Uses(*(count(c) for c in counter_ids(code, customer))) for code in codes}

    async def count_use(self, code: str, customer: str, order_id: str, at: datetime) -> None:
        for counter in counter_ids(code, customer):
            doc = self.redemptions.get(counter) or {"_id": counter, "count": 0}
            self.redemptions.put({**doc, "count": doc["count"] + 1, "last_order_id": order_id})

    async def apply(self, code: str, facts: Mapping[str, Any], occurred_at: datetime) -> None:
        _upsert_if_newer(self.table, code, facts, occurred_at, replace=False)

    async def apply_all(
        self, codes: list[str], facts: Mapping[str, Any], occurred_at: datetime
    ) -> None:
        for code in codes:
            _upsert_if_newer(self.table, code, facts, occurred_at, replace=False)


class InMemoryOrdersUnitOfWork(FakeUnitOfWork):
    def __init__(self, db: FakeDatabase) -> None:
        super().__init__(db)
        self.orders = InMemoryOrderRepository(self.table("orders", key=lambda o: o.id))
        self.carts = InMemoryCartRepository(self.table("carts", key=lambda c: c.id))
        self.returns: InMemoryRepository[Return] = InMemoryRepository(
            self.table("returns", key=lambda r: r.id)
        )
        self.withdrawals: InMemoryRepository[Withdrawal] = InMemoryRepository(
            self.table("withdrawals", key=lambda w: w.id)
        )
        self.complaints: InMemoryRepository[Complaint] = InMemoryRepository(
            self.table("complaints", key=lambda c: c.id)
        )
        self.photos = InMemoryPhotoIndex(self.table(BUCKET, key=lambda photo_id: photo_id))
        self.products = InMemoryCatalogProducts(
            self.table(CATALOG_PRODUCTS, key=lambda d: d["_id"])
        )
        self.shipping_methods = InMemoryShippingMethods(
            self.table(SHIPPING_METHODS, key=lambda d: d["_id"])
        )
        self.coupons = InMemoryCoupons(
            self.table(COUPONS, key=lambda d: d["_id"]),
            self.table(REDEMPTIONS, key=lambda d: d["_id"]),
        )
        self.distance_sales = InMemoryDistanceSales(
            self.table(DISTANCE_SALES, key=lambda d: d["_id"])
        )
        self.privacy_requests = InMemoryPrivacyRequests(
            self.table(PRIVACY_REQUESTS, key=lambda r: r.id)
        )
        self.personal_records = InMemoryPersonalRecords(self)


class InMemoryNumbers:
    """``OrderNumbers`` without gaps, per key from 1 (the real allocator has gaps)."""

    def __init__(self) -> None:
        self.issued: dict[str, int] = {}

    async def next(self, key: str) -> int:
        self.issued[key] = self.issued.get(key, 0) + 1
        return self.issued[key]


class InMemoryPrivacyRequests(InMemoryRepository[PrivacyRequest]):
    async def of_subject(self, subject_id: str) -> list[PrivacyRequest]:
        return self.table.where(lambda r: r.subject_id == subject_id)

    async def unsettled(self) -> list[PrivacyRequest]:
        return self.table.where(lambda r: r.key_destroyed_at is None)


class InMemoryPersonalRecords:
    """``PersonalRecords`` over the in-memory tables of one unit of work."""

    def __init__(self, uow: InMemoryOrdersUnitOfWork) -> None:
        self.uow = uow

    async def orders_of(self, email: str) -> list[Order]:
        key = email_key(email)
        return self.uow.orders.table.where(lambda o: email_key(o.customer.email) == key)

    async def carts_of(self, email: str) -> list[Cart]:
        key = email_key(email)
        return self.uow.carts.table.where(
            lambda c: c.customer_email is not None and email_key(c.customer_email) == key
        )

    async def returns_of(self, order_ids: list[str]) -> list[Return]:
        return self.uow.returns.table.where(lambda r: r.order_id in order_ids)

    async def complaints_of(self, order_ids: list[str]) -> list[Complaint]:
        return self.uow.complaints.table.where(lambda c: c.order_id in order_ids)
