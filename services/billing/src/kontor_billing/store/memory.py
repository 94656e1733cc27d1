"""Billing's unit of work in memory: the unit tests' database."""

from __future__ import annotations

from kontor_servicekit.fakes import FakeDatabase, FakeUnitOfWork, InMemoryTable

from kontor_billing.domain.invoice import Invoice


class InMemoryInvoiceRepository:
    def __init__(self, table: InMemoryTable[Invoice]) -> None:
        self.table = table

    async def for_order_exists(self, order_id: str) -> bool:
        return bool(self.table.where(lambda i: i.order_id == order_id))

    async def add(self, invoice: Invoice) -> None:
        if self.table.where(lambda i: i.number == invoice.number):
            raise AssertionError(f"invoice number {invoice.number} used twice")
        self.table.insert(invoice)


class InMemoryBillingUnitOfWork(FakeUnitOfWork):
    def __init__(self, db: FakeDatabase) -> None:
        super().__init__(db)
        self.invoices = InMemoryInvoiceRepository(self.table("invoices", key=lambda i: i.id))
