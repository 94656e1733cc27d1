"""Support's unit of work in memory: the unit tests' database.

The same repositories as ``store/unit_of_work.py`` over :class:`FakeDatabase` tables
(copies in, copies out).
"""

from __future__ import annotations

from kontor_servicekit.fakes import FakeDatabase, FakeUnitOfWork, InMemoryTable

from kontor_support.application.unit_of_work import DeliveryRepository
from kontor_support.domain.delivery import Delivery


class InMemoryDeliveryRepository:
    def __init__(self, table: InMemoryTable[Delivery]) -> None:
        self.table = table

    async def add(self, delivery: Delivery) -> None:
        self.table.insert(delivery)

    async def get(self, delivery_id: str) -> Delivery | None:
        return self.table.get(delivery_id)

    async def save(self, delivery: Delivery) -> None:
        self.table.put(delivery)


class InMemorySupportUnitOfWork(FakeUnitOfWork):
    def __init__(self, db: FakeDatabase) -> None:
        super().__init__(db)
        self.deliveries: DeliveryRepository = InMemoryDeliveryRepository(
            self.table("deliveries", key=lambda d: d.id)
        )
