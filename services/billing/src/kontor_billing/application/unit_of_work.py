"""What billing's use cases need of the database: repositories and the unit of work.

Implemented over MongoDB in ``store/unit_of_work.py`` and in memory in
``store/memory.py`` (for the unit tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Protocol

from kontor_servicekit.uow import UnitOfWork

from kontor_billing.domain.audit import AuditEntry
from kontor_billing.domain.bank_statements import (
    BankAccount,
    BankStatement,
    BankTransaction,
    StatementLine,
)
from kontor_billing.domain.dunning import DunningNotice
from kontor_billing.domain.incoming import IncomingInvoice
from kontor_billing.domain.invoice import Invoice
from kontor_billing.domain.order import BilledOrder
from kontor_billing.domain.quotes import CatalogPrice, Quote
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

    async def dunning_candidates(
        self, due_before: date, below_level: int, limit: int
    ) -> list[Receivable]:
        """Receivables with money open, not disputed, due before ``due_before`` and
        dunned below ``below_level``: oldest due date first."""
        ...


class PaymentRepository(Protocol):
    """Every payment booked (in) and refund recorded (out); the payment id is the key."""

    async def get(self, payment_id: str) -> Payment | None: ...

    async def add(self, payment: Payment) -> None:
        """A new payment; a second one with the same id conflicts."""
        ...

    async def save(self, payment: Payment) -> None: ...

    async def unapplied_of_order(self, order_id: str) -> list[Payment]:
        """Payments of the order booked before its invoice existed (not held ones)."""
        ...

    async def held_of_order(self, order_id: str) -> list[Payment]:
        """Payments of the order held until billing knows it (ADR 0148), oldest first."""
        ...


class StripeEventLog(Protocol):
    """The ids of the Stripe events handled (each once)."""

    async def add(self, event_id: str, event_type: str, at: datetime) -> bool:
        """Remember the event; False if it was handled before."""
        ...


class DunningNoticeRepository(Protocol):
    async def add(self, notice: DunningNotice) -> None:
        """A new notice; its number is unique (a second one conflicts)."""
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


class BuyerLanguages(Protocol):
    """The merchant's choice of document language per buyer e-mail (lower case)."""

    async def get(self, email: str) -> str | None: ...

    async def set(self, email: str, language: str) -> None: ...


class BuyerPaymentTerms(Protocol):
    """The days to pay agreed per buyer e-mail (lower case)."""

    async def get(self, email: str) -> int | None: ...

    async def set(self, email: str, days: int) -> None: ...


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
    def retained(self) -> RetainedDocuments: ...

    @property
    def incoming(self) -> IncomingInvoiceRepository: ...

    @property
    def receivables(self) -> ReceivableRepository: ...

    @property
    def payments(self) -> PaymentRepository: ...

    @property
    def stripe_events(self) -> StripeEventLog: ...

    @property
    def dunning(self) -> DunningNoticeRepository: ...

    @property
    def bank_statements(self) -> BankStatementRepository: ...

    @property
    def bank_transactions(self) -> BankTransactionRepository: ...

    @property
    def open_items(self) -> OpenItemFinder: ...

    @property
    def quotes(self) -> QuoteRepository: ...

    @property
    def catalog(self) -> QuoteCatalog: ...

    @property
    def buyer_languages(self) -> BuyerLanguages: ...

    @property
    def buyer_terms(self) -> BuyerPaymentTerms: ...


class RetainedDocuments(Protocol):
    """Issued documents as the retention purge sees them (ADR 0027): the one delete there
    is, for documents whose retention period has ended."""

    async def issued(self, number: str) -> tuple[str, date] | None:
        """The kind and issue date (Europe/Berlin) of document ``number``, if stored."""
        ...

    async def purge(self, number: str, *, issued_before: date) -> str:
        """Delete document ``number`` if it was issued before ``issued_before``; returns
        the SHA-256 of the document as it was stored (the tombstone's hash)."""
        ...


class IncomingInvoiceRepository(Protocol):
    """Suppliers' invoices (issue 12): the record of each received file, once per sha256."""

    async def get(self, invoice_id: str) -> IncomingInvoice | None: ...

    async def by_sha256(self, sha256: str) -> IncomingInvoice | None: ...

    async def of_supplier(self, supplier_key: str) -> list[IncomingInvoice]:
        """Every record of the supplier (``Supplier.key``), for the duplicate checks."""
        ...

    async def add(self, invoice: IncomingInvoice) -> None:
        """A new record; a second one with the same sha256 conflicts."""
        ...

    async def save(self, invoice: IncomingInvoice) -> None: ...


class QuoteRepository(Protocol):
    async def add(self, quote: Quote) -> None: ...

    async def get(self, number: str) -> Quote | None: ...

    async def save(self, quote: Quote) -> None: ...

    async def due_to_expire(self, now: datetime, limit: int) -> list[str]:
        """Numbers of open quotes whose validity ended before ``now``."""
        ...


class QuoteCatalog(Protocol):
    """Billing's read model of the catalog's products (from catalog events), for quotes."""

    async def prices(self, skus: list[str]) -> dict[str, CatalogPrice]: ...

    async def apply(self, sku: str, facts: Mapping[str, Any], occurred_at: datetime) -> None:
        """Merge ``facts`` into the product unless a newer event was applied already."""
        ...
