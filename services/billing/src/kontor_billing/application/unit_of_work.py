"""What billing's use cases need of the database: repositories and the unit of work.

Implemented over MongoDB in ``store/unit_of_work.py`` and in memory in
``store/memory.py`` (for the unit tests).
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from kontor_servicekit.uow import UnitOfWork

from kontor_billing.domain.audit import AuditEntry
from kontor_billing.domain.bank_statements import (
    BankAccount,
    BankStatement,
    BankTransaction,
    StatementLine,
)
from kontor_billing.domain.invoice import Invoice
from kontor_billing.domain.order import BilledOrder
from kontor_billing.domain.receivables import Payment, Receivable
from kontor_billing.domain.reconciliation import OpenItem
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


class ReceivableRepository(Protocol):
    """The receivables ledger: one receivable per issued invoice (key: its number)."""

    async def get(self, invoice_number: str) -> Receivable | None: ...

    async def of_order(self, order_id: str) -> Receivable | None:
        """The receivable of the order's invoice, if one was issued."""
        ...

    async def add(self, receivable: Receivable) -> None:
        """A new receivable; a second one for the same invoice conflicts."""
        ...

    async def save(self, receivable: Receivable) -> None: ...

    async def unsettled_due_before(self, day: date, limit: int) -> list[Receivable]:
        """Receivables with money open whose due date is before ``day`` (for dunning)."""
        ...


class PaymentRepository(Protocol):
    """Every payment booked (in) and refund recorded (out); the payment id is the key."""

    async def get(self, payment_id: str) -> Payment | None: ...

    async def add(self, payment: Payment) -> None:
        """A new payment; a second one with the same id conflicts."""
        ...

    async def save(self, payment: Payment) -> None: ...

    async def unapplied_of_order(self, order_id: str) -> list[Payment]:
        """Payments of the order booked before its invoice existed."""
        ...


class BankStatementRepository(Protocol):
    """Imported statement files (key: the file's SHA-256) and the accounts' balances."""

    async def get(self, statement_id: str) -> BankStatement | None: ...

    async def add(self, statement: BankStatement) -> None: ...

    async def account(self, iban: str) -> BankAccount | None: ...

    async def save_account(self, account: BankAccount) -> None: ...


class BankTransactionRepository(Protocol):
    """Every booking of every statement, once (key: ``booking_ids``)."""

    async def get(self, transaction_id: str) -> BankTransaction | None: ...

    async def known(self, transaction_ids: list[str]) -> dict[str, str]:
        """The ids among ``transaction_ids`` stored already, with their status."""
        ...

    async def add(self, transaction: BankTransaction) -> None: ...

    async def save(self, transaction: BankTransaction) -> None: ...

    async def customers_paying_from(self, iban: str) -> frozenset[str]:
        """The e-mails of customers whose invoices this IBAN paid before."""
        ...


class OpenItemFinder(Protocol):
    async def candidates(
        self, lines: list[StatementLine], payer_emails: frozenset[str]
    ) -> list[OpenItem]:
        """Receivables a credit may pay: named in its text (invoice or order number),
        open with its amount, of its payer's name, of customers its IBAN paid before."""
        ...


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
    def receivables(self) -> ReceivableRepository: ...

    @property
    def payments(self) -> PaymentRepository: ...

    @property
    def bank_statements(self) -> BankStatementRepository: ...

    @property
    def bank_transactions(self) -> BankTransactionRepository: ...

    @property
    def open_items(self) -> OpenItemFinder: ...
