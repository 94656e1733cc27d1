"""What the orders service's use cases need of the database: repositories and the
unit of work.

Implemented over MongoDB in ``store/unit_of_work.py`` and in memory in
``store/memory.py`` (for the unit tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from kontor_servicekit.uow import UnitOfWork

from kontor_orders.domain.cart import Cart
from kontor_orders.domain.complaint import Complaint
from kontor_orders.domain.coupons import Article, Coupon, Uses
from kontor_orders.domain.order import Order, PricedProduct
from kontor_orders.domain.oss import DistanceSales
from kontor_orders.domain.privacy import PrivacyRequest
from kontor_orders.domain.returns import Return, Withdrawal
from kontor_orders.domain.shipping import ShippingMethod


class OrderRepository(Protocol):
    async def add(self, order: Order) -> None: ...

    async def get(self, order_id: str) -> Order | None: ...

    async def by_number(self, number: str) -> Order | None: ...

    async def awaiting_prepayment(self, placed_before: datetime, limit: int = 100) -> list[str]:
        """Ids of confirmed prepayment orders placed by ``placed_before``, oldest first."""
        ...

    async def number_taken(self, number: str) -> bool:
        """Whether an order has this number already (numbers are unique)."""
        ...

    async def save(self, order: Order) -> None:
        """Store the changed order (its version goes up)."""
        ...


class CartRepository(Protocol):
    async def add(self, cart: Cart) -> None: ...

    async def get(self, cart_id: str) -> Cart | None: ...

    async def save(self, cart: Cart) -> None: ...

    async def quiet_checkouts(self, before: datetime, limit: int = 100) -> list[str]:
        """Ids of carts in checkout with no activity since ``before``."""
        ...


class ReturnRepository(Protocol):
    async def add(self, r: Return) -> None: ...

    async def get(self, return_id: str) -> Return | None: ...

    async def save(self, r: Return) -> None: ...


class WithdrawalRepository(Protocol):
    async def add(self, withdrawal: Withdrawal) -> None: ...

    async def get(self, withdrawal_id: str) -> Withdrawal | None: ...

    async def save(self, withdrawal: Withdrawal) -> None: ...


class ComplaintRepository(Protocol):
    async def add(self, complaint: Complaint) -> None: ...

    async def get(self, complaint_id: str) -> Complaint | None: ...

    async def save(self, complaint: Complaint) -> None: ...


class PhotoIndex(Protocol):
    async def exists(self, photo_ids: list[str]) -> list[bool]:
        """For each id whether a complaint photo with it was uploaded."""
        ...


class CatalogProducts(Protocol):
    """The read model of the catalog's products (fed by catalog events)."""

    async def priced(self, skus: list[str]) -> dict[str, PricedProduct]:
        """The known, priced products among ``skus``."""
        ...

    async def apply(self, sku: str, facts: Mapping[str, Any], occurred_at: datetime) -> None:
        """Merge ``facts`` into the product unless a newer event was applied already."""
        ...

    async def mark_parent(self, sku: str) -> None:
        """``sku`` has variants (whenever that was learnt: it stays a parent)."""
        ...

    async def articles(self, skus: list[str]) -> dict[str, Article]:
        """What coupon restrictions ask of the products among ``skus`` the read model
        knows: parent and category (a variant without one: its parent's)."""
        ...


class ShippingMethods(Protocol):
    """The read model of the catalog's shipping methods."""

    async def with_standard(
        self, method_id: str
    ) -> tuple[ShippingMethod | None, ShippingMethod | None]:
        """The method ``method_id`` and the standard method, as known now."""
        ...

    async def replace(
        self, method_id: str, state: Mapping[str, Any], occurred_at: datetime
    ) -> None:
        """Make ``state`` the method's whole state unless a newer event was applied."""
        ...


class Coupons(Protocol):
    """The read model of marketing's coupons and the redemptions of single-use codes."""

    async def known(self, codes: list[str]) -> dict[str, Coupon]:
        """The coupons among ``codes`` the read model knows (withdrawn ones included)."""
        ...

    async def used(self, codes: list[str]) -> set[str]:
        """The codes among ``codes`` redeemed already."""
        ...

    async def redeem(self, code: str, order_id: str, at: datetime) -> None:
        """Record that ``order_id`` used ``code`` (unique per code: Conflict if used)."""
        ...

    async def uses(self, codes: list[str], customer: str) -> dict[str, Uses]:
        """How often each of ``codes`` was used, in all and by ``customer`` (subject id)."""
        ...

    async def count_use(self, code: str, customer: str, order_id: str, at: datetime) -> None:
        """Count one use of a code with limits, in all and by ``customer``."""
        ...

    async def apply(self, code: str, facts: Mapping[str, Any], occurred_at: datetime) -> None:
        """Merge ``facts`` into the coupon unless a newer event was applied already."""
        ...

    async def apply_all(
        self, codes: list[str], facts: Mapping[str, Any], occurred_at: datetime
    ) -> None:
        """:meth:`apply` for many codes with the same facts (a coupon pool's batch)."""
        ...


class DistanceSalesTotals(Protocol):
    """The running net total of distance sales to consumers abroad per calendar year
    (One-Stop-Shop, ADR 0026), written in the order's transaction."""

    async def of(self, year: int) -> DistanceSales:
        """The totals of ``year - 1`` and ``year``."""
        ...

    async def add(self, year: int, net: Decimal) -> None: ...


class OrdersUnitOfWork(UnitOfWork, Protocol):
    """The repositories of one unit of work (read-only members, so an implementation
    may hold its own repository classes)."""

    @property
    def orders(self) -> OrderRepository: ...

    @property
    def carts(self) -> CartRepository: ...

    @property
    def returns(self) -> ReturnRepository: ...

    @property
    def withdrawals(self) -> WithdrawalRepository: ...

    @property
    def complaints(self) -> ComplaintRepository: ...

    @property
    def photos(self) -> PhotoIndex: ...

    @property
    def products(self) -> CatalogProducts: ...

    @property
    def shipping_methods(self) -> ShippingMethods: ...

    @property
    def coupons(self) -> Coupons: ...

    @property
    def distance_sales(self) -> DistanceSalesTotals: ...


class OrderNumbers(Protocol):
    """Unique, increasing numbers that may have gaps (``kontor_servicekit.numbers``)."""

    async def next(self, key: str) -> int: ...


# --- privacy (issue 13): appended, see application/privacy.py -----------------------


class PrivacyRequestRepository(Protocol):
    async def add(self, request: PrivacyRequest) -> None: ...

    async def get(self, request_id: str) -> PrivacyRequest | None: ...

    async def save(self, request: PrivacyRequest) -> None: ...

    async def of_subject(self, subject_id: str) -> list[PrivacyRequest]:
        """Every request about this person (index ``by_subject``)."""
        ...

    async def unsettled(self) -> list[PrivacyRequest]:
        """Requests whose own key is not destroyed yet (the pending ones among them)."""
        ...


class PersonalRecords(Protocol):
    """Everything orders holds on one person, found by their e-mail."""

    async def orders_of(self, email: str) -> list[Order]:
        """Orders whose customer has this e-mail (matched as ``email_key``)."""
        ...

    async def carts_of(self, email: str) -> list[Cart]:
        """Carts with this e-mail (case-insensitive)."""
        ...

    async def returns_of(self, order_ids: list[str]) -> list[Return]: ...

    async def complaints_of(self, order_ids: list[str]) -> list[Complaint]: ...


class PrivacyUnitOfWork(OrdersUnitOfWork, Protocol):
    """The orders unit of work with the privacy repositories (the Mongo and in-memory
    units of work have them; the use cases of application/privacy.py take this)."""

    @property
    def privacy_requests(self) -> PrivacyRequestRepository: ...

    @property
    def personal_records(self) -> PersonalRecords: ...
