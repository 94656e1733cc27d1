"""What billing's use cases need of the database: repositories and the unit of work.

Implemented over MongoDB in ``store/unit_of_work.py`` and in memory in
``store/memory.py`` (for the unit tests).
"""

from __future__ import annotations

from typing import Protocol

from kontor_servicekit.uow import UnitOfWork

from kontor_billing.domain.audit import AuditEntry
from kontor_billing.domain.invoice import Invoice
from kontor_billing.domain.order import BilledOrder
from kontor_billing.domain.seller import Seller


class InvoiceRepository(Protocol):
    async def for_order_exists(self, order_id: str) -> bool:
        """Whether the order has an invoice (not a correction) already."""
        ...

    async def add(self, invoice: Invoice) -> str:
        """Store a new document; returns the SHA-256 of it as stored (for the audit
        chain). Issued documents are never changed or deleted (GoBD)."""
        ...

    async def by_number(self, number: str) -> Invoice | None: ...

    async def invoice_of(self, order_id: str) -> Invoice | None:
        """The order's invoice (kind invoice), if any."""
        ...

    async def referring_to(self, number: str) -> list[Invoice]:
        """The cancellations and corrections of invoice ``number``."""
        ...

    async def sha256_of(self, number: str) -> str:
        """The SHA-256 of document ``number`` as stored."""
        ...


class OrderBook(Protocol):
    """Billing's read model of the orders it invoices (from orders' events)."""

    async def get(self, order_id: str) -> BilledOrder | None: ...

    async def save(self, order: BilledOrder) -> None: ...

    async def waiting(self, limit: int) -> list[BilledOrder]:
        """Orders whose due invoice waits (e.g. for the seller's data)."""
        ...


class SellerRepository(Protocol):
    async def current(self) -> Seller | None:
        """The merchant's data as last PUT, or None."""
        ...

    async def save(self, seller: Seller) -> None: ...


class AuditLog(Protocol):
    async def last(self, chain: str) -> AuditEntry | None: ...

    async def append(self, entry: AuditEntry) -> None:
        """Add ``entry`` (seq one past the last of its chain); a concurrent append of
        the same seq conflicts."""
        ...


class BuyerLanguages(Protocol):
    """The merchant's choice of document language per buyer e-mail (lower case)."""

    async def get(self, email: str) -> str | None: ...

    async def set(self, email: str, language: str) -> None: ...


class BillingUnitOfWork(UnitOfWork, Protocol):
    """The repositories of one unit of work (read-only members, so an implementation
    may hold its own repository classes)."""

    @property
    def invoices(self) -> InvoiceRepository: ...

    @property
    def orders(self) -> OrderBook: ...

    @property
    def seller(self) -> SellerRepository: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def buyer_languages(self) -> BuyerLanguages: ...
