"""What support's use cases need of the database.

Implemented over MongoDB in ``store/unit_of_work.py`` and in memory in
``store/memory.py``. Each repository the features need is a Protocol here and an
attribute of :class:`SupportUnitOfWork`.
"""

from __future__ import annotations

from typing import Protocol

from kontor_servicekit.uow import UnitOfWork

from kontor_support.domain.delivery import Delivery


class DeliveryRepository(Protocol):
    async def add(self, delivery: Delivery) -> None: ...

    async def get(self, delivery_id: str) -> Delivery | None: ...

    async def save(self, delivery: Delivery) -> None: ...


class SupportUnitOfWork(UnitOfWork, Protocol):
    """The repositories of support plus the outbox and sequences."""

    deliveries: DeliveryRepository
