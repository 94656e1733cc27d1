"""The receivables ledger and the payments in memory (the unit tests' database)."""

from __future__ import annotations

from datetime import date, datetime

from kontor_servicekit.fakes import InMemoryTable

from kontor_billing.domain.receivables import Payment, Receivable


class InMemoryReceivableRepository:
    def __init__(self, table: InMemoryTable[Receivable]) -> None:
        self.table = table

    async def get(self, invoice_number: str) -> Receivable | None:
        return self.table.get(invoice_number)

    async def of_order(self, order_id: str) -> Receivable | None:
        found = self.table.where(lambda r: r.order_id == order_id)
        # as in MongoDB: the valid (not cancelled) receivable first, else the newest
        found.sort(key=lambda r: (r.cancelled_by is not None, -r.opened_at.timestamp()))
        return found[0] if found else None

    async def add(self, receivable: Receivable) -> None:
        self.table.insert(receivable)

    async def save(self, receivable: Receivable) -> None:
        self.table.put(receivable)

    async def dunning_candidates(
        self, due_before: date, below_level: int, limit: int
    ) -> list[Receivable]:
        found = self.table.where(
            lambda r: (
                not r.settled
                and r.disputed_at is None
                and r.dunning_level < below_level
                and r.due_date < due_before
            )
        )
        return sorted(found, key=lambda r: r.due_date)[:limit]


class InMemoryPaymentRepository:
    def __init__(self, table: InMemoryTable[Payment]) -> None:
        self.table = table

    async def get(self, payment_id: str) -> Payment | None:
        return self.table.get(payment_id)

    async def add(self, payment: Payment) -> None:
        self.table.insert(payment)

    async def save(self, payment: Payment) -> None:
        self.table.put(payment)

    async def unapplied_of_order(self, order_id: str) -> list[Payment]:
        found = self.table.where(
            lambda p: p.order_id == order_id and p.invoice_number is None and p.held is None
        )
        return sorted(found, key=lambda p: p.received_at)

    async def held_of_order(self, order_id: str) -> list[Payment]:
        found = self.table.where(lambda p: p.order_id == order_id and p.held is not None)
        return sorted(found, key=lambda p: p.received_at)


class InMemoryStripeEventLog:
    def __init__(self, table: InMemoryTable[tuple[str, str, datetime]]) -> None:
        self.table = table

    async def add(self, event_id: str, event_type: str, at: datetime) -> bool:
        if self.table.get(event_id) is not None:
            return False
        self.table.insert((event_id, event_type, at))
        return True
