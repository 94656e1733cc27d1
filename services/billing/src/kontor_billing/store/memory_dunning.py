"""Dunning notices in memory (the unit tests' database)."""

from __future__ import annotations

from kontor_servicekit.fakes import InMemoryTable

from kontor_billing.domain.dunning import DunningNotice


class InMemoryDunningNotices:
    def __init__(self, table: InMemoryTable[DunningNotice]) -> None:
        self.table = table

    async def add(self, notice: DunningNotice) -> None:
        self.table.insert(notice)
