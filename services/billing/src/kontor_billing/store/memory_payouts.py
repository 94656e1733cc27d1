"""Payouts in memory (the unit tests' database); ``payables`` and ``order_payments``
are fed by the tests (``incoming_invoices`` and ``payments`` belong to other parts)."""

from __future__ import annotations

from decimal import Decimal

from kontor_servicekit.domain_errors import Conflict
from kontor_servicekit.fakes import InMemoryTable

from kontor_billing.domain.payouts import (
    PaidSummary,
    Payable,
    PaymentRun,
    PayoutItem,
    PayoutKind,
    PayoutRoute,
    PayoutStatus,
)


class InMemoryPayoutRepository:
    def __init__(self, table: InMemoryTable[PayoutItem]) -> None:
        self.table = table

    async def add(self, item: PayoutItem) -> None:
        if self.table.where(lambda i: i.number == item.number or i.id == item.id):
            raise Conflict(f"{item.kind} payout of {item.source_number} exists already")
        self.table.insert(item)

    async def save(self, item: PayoutItem) -> None:
        self.table.put(item)

    async def by_number(self, number: str) -> PayoutItem | None:
        found = self.table.where(lambda i: i.number == number)
        return found[0] if found else None

    async def of_source(self, kind: PayoutKind, source_id: str) -> PayoutItem | None:
        found = self.table.where(lambda i: i.kind == kind and i.source_id == source_id)
        return found[0] if found else None

    async def refunded_for_order(self, order_id: str) -> Decimal:
        return sum(
            (
                i.amount
                for i in self.table.where(
                    lambda i: i.kind == "refund" and i.order_id == order_id and i.status != "failed"
                )
            ),
            Decimal("0"),
        )

    async def with_status(
        self, status: PayoutStatus, route: PayoutRoute | None = None, limit: int = 1000
    ) -> list[PayoutItem]:
        found = self.table.where(
            lambda i: i.status == status and (route is None or i.route == route)
        )
        return sorted(found, key=lambda i: i.number)[:limit]


class InMemoryPaymentRunRepository:
    def __init__(self, table: InMemoryTable[tuple[PaymentRun, bytes]]) -> None:
        self.table = table

    async def add(self, run: PaymentRun, file: bytes) -> None:
        self.table.insert((run, file))

    async def get(self, run_id: str) -> PaymentRun | None:
        found = self.table.get(run_id)
        return None if found is None else found[0]

    async def file_of(self, run_id: str) -> bytes | None:
        found = self.table.get(run_id)
        return None if found is None else found[1]


class InMemoryPayableSource:
    def __init__(self, table: InMemoryTable[Payable]) -> None:
        self.table = table

    async def approved(self) -> list[Payable]:
        return sorted(self.table, key=lambda p: p.id)


class InMemoryOrderPayments:
    def __init__(self, table: InMemoryTable[tuple[str, PaidSummary]]) -> None:
        self.table = table

    async def paid_of(self, order_id: str) -> PaidSummary | None:
        found = self.table.get(order_id)
        return None if found is None else found[1]
