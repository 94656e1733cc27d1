"""Incoming invoices in memory: the unit tests' ``incoming_invoices`` (see ``incoming.py``)."""

from __future__ import annotations

from kontor_servicekit.domain_errors import Conflict
from kontor_servicekit.fakes import InMemoryTable

from kontor_billing.domain.incoming import IncomingInvoice


class InMemoryIncomingInvoiceRepository:
    def __init__(self, table: InMemoryTable[IncomingInvoice]) -> None:
        self.table = table

    async def get(self, invoice_id: str) -> IncomingInvoice | None:
        return self.table.get(invoice_id)

    async def by_sha256(self, sha256: str) -> IncomingInvoice | None:
        found = self.table.where(lambda i: i.sha256 == sha256)
        return found[0] if found else None

    async def of_supplier(self, supplier_key: str) -> list[IncomingInvoice]:
        return self.table.where(lambda i: i.fields.supplier.key == supplier_key)

    async def add(self, invoice: IncomingInvoice) -> None:
        if await self.by_sha256(invoice.sha256):  # the unique index of the database
            raise Conflict(f"a file with sha256 {invoice.sha256} is kept already")
        self.table.insert(invoice)

    async def save(self, invoice: IncomingInvoice) -> None:
        self.table.put(invoice)
