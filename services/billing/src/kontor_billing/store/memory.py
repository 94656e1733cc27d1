"""Billing's unit of work in memory: the unit tests' database."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar

from kontor_servicekit.domain_errors import Conflict
from kontor_servicekit.fakes import FakeDatabase, FakeUnitOfWork, InMemoryTable

from kontor_billing.domain.audit import AuditEntry
from kontor_billing.domain.invoice import Invoice
from kontor_billing.domain.order import BilledOrder
from kontor_billing.domain.quotes import CatalogPrice, Quote
from kontor_billing.domain.seller import Seller
from kontor_billing.store.canonical import document_sha256
from kontor_billing.store.invoices import to_document
from kontor_billing.store.memory_bank import (
    InMemoryBankStatementRepository,
    InMemoryBankTransactionRepository,
    InMemoryOpenItemFinder,
)
from kontor_billing.store.memory_datev import (
    InMemoryAccountingSource,
    InMemoryExportRepository,
    InMemoryPartyAccounts,
)
from kontor_billing.store.memory_dunning import InMemoryDunningNotices
from kontor_billing.store.memory_incoming import InMemoryIncomingInvoiceRepository
from kontor_billing.store.memory_payouts import (
    InMemoryOrderPayments,
    InMemoryPayableSource,
    InMemoryPaymentRunRepository,
    InMemoryPayoutRepository,
)
from kontor_billing.store.memory_receivables import (
    InMemoryPaymentRepository,
    InMemoryReceivableRepository,
    InMemoryStripeEventLog,
)
from kontor_billing.store.quotes import catalog_price
from kontor_billing.store.retention import InMemoryRetainedDocuments

T = TypeVar("T")


class InMemoryInvoiceRepository:
    def __init__(self, table: InMemoryTable[Invoice]) -> None:
        self.table = table

    async def for_order_exists(self, order_id: str) -> bool:
        return bool(self.table.where(lambda i: i.order_id == order_id and i.kind == "invoice"))

    async def add(self, invoice: Invoice) -> str:
        if self.table.where(lambda i: i.number == invoice.number):
            raise AssertionError(f"invoice number {invoice.number} used twice")
        if invoice.kind == "invoice" and self.table.where(  # the one_valid_invoice index
            lambda i: (
                i.kind == "invoice"
                and i.order_id == invoice.order_id
                and i.generation == invoice.generation
            )
        ):
            raise Conflict(f"order {invoice.order_id} was invoiced again already")
        self.table.insert(invoice)
        return document_sha256(to_document(invoice))

    async def by_number(self, number: str) -> Invoice | None:
        found = self.table.where(lambda i: i.number == number)
        return found[0] if found else None

    async def invoice_of(self, order_id: str) -> Invoice | None:
        found = self.table.where(lambda i: i.order_id == order_id and i.kind == "invoice")
        return max(found, key=lambda i: i.generation) if found else None

    async def referring_to(self, number: str) -> list[Invoice]:
        return sorted(
            self.table.where(lambda i: i.original_number == number), key=lambda i: i.number
        )

    async def sha256_of(self, number: str) -> str:
        found = await self.by_number(number)
        if found is None:
            raise LookupError(number)
        return document_sha256(to_document(found))


class InMemoryOrderBook:
    def __init__(self, table: InMemoryTable[BilledOrder]) -> None:
        self.table = table

    async def get(self, order_id: str) -> BilledOrder | None:
        return self.table.get(order_id)

    async def save(self, order: BilledOrder) -> None:
        self.table.put(order)

    async def waiting(self, limit: int) -> list[BilledOrder]:
        return self.table.where(lambda o: o.waiting is not None)[:limit]


class InMemorySellerRepository:
    def __init__(self, table: InMemoryTable[Seller]) -> None:
        self.table = table

    async def current(self) -> Seller | None:
        return self.table.get("current")

    async def save(self, seller: Seller) -> None:
        self.table.put(seller)


class InMemoryAuditLog:
    def __init__(self, table: InMemoryTable[AuditEntry]) -> None:
        self.table = table

    async def last(self, chain: str) -> AuditEntry | None:
        entries = sorted(self.table.where(lambda e: e.chain == chain), key=lambda e: e.seq)
        return entries[-1] if entries else None

    async def append(self, entry: AuditEntry) -> None:
        self.table.insert(entry)


class InMemoryBuyerChoice(Generic[T]):
    """One choice per buyer e-mail (lower case), as ``MongoBuyerChoice``."""

    def __init__(self, table: InMemoryTable[tuple[str, T]]) -> None:
        self.table = table

    async def get(self, email: str) -> T | None:
        row = self.table.get(email.lower())
        return row[1] if row else None

    async def set(self, email: str, value: T) -> None:
        self.table.put((email.lower(), value))


class InMemoryBillingUnitOfWork(FakeUnitOfWork):
    def __init__(self, db: FakeDatabase) -> None:
        super().__init__(db)
        self.invoices = InMemoryInvoiceRepository(self.table("invoices", key=lambda i: i.id))
        self.orders = InMemoryOrderBook(self.table("orders", key=lambda o: o.order_id))
        self.seller = InMemorySellerRepository(self.table("seller", key=lambda s: "current"))
        self.audit = InMemoryAuditLog(self.table("audit", key=lambda e: f"{e.chain}:{e.seq}"))
        self.retained = InMemoryRetainedDocuments(self.table("invoices", key=lambda i: i.id))
        self.incoming = InMemoryIncomingInvoiceRepository(
            self.table("incoming_invoices", key=lambda i: i.id)
        )
        self.payouts = InMemoryPayoutRepository(self.table("payout_items", key=lambda i: i.id))
        self.payment_runs = InMemoryPaymentRunRepository(
            self.table("payment_runs", key=lambda r: r[0].id)
        )
        self.payables = InMemoryPayableSource(self.table("approved_payables", key=lambda p: p.id))
        self.order_payments = InMemoryOrderPayments(self.table("paid_orders", key=lambda p: p[0]))
        self.accounting = InMemoryAccountingSource(
            self.table("invoices", key=lambda i: i.id),
            self.table("received_payments", key=lambda p: p.id),
            self.table("booked_incoming", key=lambda d: d.id),
            self.table("payout_items", key=lambda i: i.id),
        )
        self.datev_exports = InMemoryExportRepository(
            self.table("datev_exports", key=lambda r: r[0].key)
        )
        self.party_accounts = InMemoryPartyAccounts(
            self.table("datev_party_accounts", key=lambda p: p[0])
        )
        self.receivables = InMemoryReceivableRepository(
            self.table("receivables", key=lambda r: r.invoice_number)
        )
        self.payments = InMemoryPaymentRepository(
            self.table("payments", key=lambda p: p.payment_id)
        )
        self.stripe_events = InMemoryStripeEventLog(self.table("stripe_events", key=lambda e: e[0]))
        self.dunning = InMemoryDunningNotices(self.table("dunning_notices", key=lambda n: n.number))
        self.bank_statements = InMemoryBankStatementRepository(
            self.table("bank_statements", key=lambda s: s.id),
            self.table("bank_accounts", key=lambda a: a.iban),
        )
        self.bank_transactions = InMemoryBankTransactionRepository(
            self.table("bank_transactions", key=lambda t: t.id)
        )
        self.open_items = InMemoryOpenItemFinder(
            self.table("receivables", key=lambda r: r.invoice_number)
        )
        self.quotes = InMemoryQuoteRepository(self.table("quotes", key=lambda q: q.number))
        self.catalog = InMemoryQuoteCatalog(self.table("quote_catalog", key=lambda p: p["sku"]))
        self.buyer_languages: InMemoryBuyerChoice[str] = InMemoryBuyerChoice(
            self.table("buyer_languages", key=lambda row: row[0])
        )
        self.buyer_terms: InMemoryBuyerChoice[int] = InMemoryBuyerChoice(
            self.table("buyer_terms", key=lambda row: row[0])
        )


class InMemoryQuoteRepository:
    def __init__(self, table: InMemoryTable[Quote]) -> None:
        self.table = table

    async def add(self, quote: Quote) -> None:
        self.table.insert(quote)

    async def get(self, number: str) -> Quote | None:
        return self.table.get(number)

    async def save(self, quote: Quote) -> None:
        self.table.put(quote)

    async def due_to_expire(self, now: datetime, limit: int) -> list[str]:
        due = sorted(
            self.table.where(lambda q: q.is_due_to_expire(now)), key=lambda q: q.expires_at
        )
        return [q.number for q in due[:limit]]


class InMemoryQuoteCatalog:
    """The catalog read model in memory: the newest event wins, as in MongoDB."""

    def __init__(self, table: InMemoryTable[dict[str, Any]]) -> None:
        self.table = table

    async def prices(self, skus: list[str]) -> dict[str, CatalogPrice]:
        found = (catalog_price({"_id": sku, **(self.table.get(sku) or {})}) for sku in skus)
        return {p.sku: p for p in found if p is not None}

    async def apply(self, sku: str, facts: Mapping[str, Any], occurred_at: datetime) -> None:
        current = self.table.get(sku) or {"sku": sku}
        if current.get("as_of", occurred_at) > occurred_at:
            return
        self.table.put({**current, **facts, "as_of": occurred_at})
