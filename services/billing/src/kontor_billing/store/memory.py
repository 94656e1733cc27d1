"""Billing's unit of work in memory: the unit tests' database."""

from __future__ import annotations

from kontor_servicekit.domain_errors import Conflict
from kontor_servicekit.fakes import FakeDatabase, FakeUnitOfWork, InMemoryTable

from kontor_billing.domain.audit import AuditEntry
from kontor_billing.domain.invoice import Invoice
from kontor_billing.domain.order import BilledOrder
from kontor_billing.domain.seller import Seller
from kontor_billing.store.canonical import document_sha256
from kontor_billing.store.invoices import to_document


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


class InMemoryBuyerLanguages:
    def __init__(self, table: InMemoryTable[tuple[str, str]]) -> None:
        self.table = table

    async def get(self, email: str) -> str | None:
        row = self.table.get(email.lower())
        return row[1] if row else None

    async def set(self, email: str, language: str) -> None:
        self.table.put((email.lower(), language))


class InMemoryBillingUnitOfWork(FakeUnitOfWork):
    def __init__(self, db: FakeDatabase) -> None:
        super().__init__(db)
        self.invoices = InMemoryInvoiceRepository(self.table("invoices", key=lambda i: i.id))
        self.orders = InMemoryOrderBook(self.table("orders", key=lambda o: o.order_id))
        self.seller = InMemorySellerRepository(self.table("seller", key=lambda s: "current"))
        self.audit = InMemoryAuditLog(self.table("audit", key=lambda e: f"{e.chain}:{e.seq}"))
        self.buyer_languages = InMemoryBuyerLanguages(
            self.table("buyer_languages", key=lambda row: row[0])
        )
