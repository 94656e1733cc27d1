"""What billing's use cases need of the database: repositories and the unit of work.

Implemented over MongoDB in ``store/unit_of_work.py`` and in memory in
``store/memory.py`` (for the unit tests).
"""

from __future__ import annotations

from typing import Protocol

from kontor_servicekit.uow import UnitOfWork

from kontor_billing.domain.invoice import Invoice


class InvoiceRepository(Protocol):
    async def for_order_exists(self, order_id: str) -> bool:
        """Whether the order has an invoice (not a correction) already."""
        ...

    async def add(self, invoice: Invoice) -> None:
        """Store a new invoice; issued invoices are never changed (GoBD)."""
        ...


class BillingUnitOfWork(UnitOfWork, Protocol):
    invoices: InvoiceRepository
