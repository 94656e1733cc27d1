"""Support's unit of work in memory: the unit tests' database."""

from __future__ import annotations

from kontor_servicekit.fakes import FakeDatabase, FakeUnitOfWork


class InMemorySupportUnitOfWork(FakeUnitOfWork):
    def __init__(self, db: FakeDatabase) -> None:
        super().__init__(db)
