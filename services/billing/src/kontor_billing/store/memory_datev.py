"""The DATEV export's reads and the kept exports in memory (unit tests). Payments
and incoming invoices belong to other parts of billing: the tests feed them as the
export reads them (``received_payments``, ``booked_incoming``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date

from kontor_servicekit.domain_errors import Conflict
from kontor_servicekit.fakes import InMemoryTable

from kontor_billing.application.datev import ExportRecord
from kontor_billing.domain.datev import (
    IncomingDocument,
    PeriodSources,
    ReceivedPayment,
    debtor_of,
    outgoing_of,
    payout_booking_of,
)
from kontor_billing.domain.invoice import Invoice
from kontor_billing.domain.payouts import PayoutItem


class InMemoryAccountingSource:
    def __init__(
        self,
        invoices: InMemoryTable[Invoice],
        payments: InMemoryTable[ReceivedPayment],
        incoming: InMemoryTable[IncomingDocument],
        payouts: InMemoryTable[PayoutItem],
    ) -> None:
        self.invoices, self.payments, self.incoming, self.payouts = (
            invoices,
            payments,
            incoming,
            payouts,
        )

    async def sources(self, start: date, end: date) -> PeriodSources:
        def within(day: date) -> bool:
            return start <= day <= end

        debtors = {i.number: d for i in self.invoices if (d := debtor_of(i.buyer.email))}
        creditors = {d.id: d.party for d in self.incoming if d.party}

        def party_of(item: PayoutItem) -> str | None:
            if item.kind == "refund":
                return debtors.get(item.source_number)
            return creditors.get(item.source_id)

        booked = [
            payout_booking_of(i, party_of(i)) for i in sorted(self.payouts, key=lambda i: i.id)
        ]
        return PeriodSources(
            documents=[
                outgoing_of(i)
                for i in sorted(self.invoices, key=lambda i: i.id)
                if within(i.issue_date)
            ],
            payments=sorted(
                (
                    replace(p, party=p.party or debtors.get(p.invoice_number or ""))
                    for p in self.payments
                    if within(p.received_on)
                ),
                key=lambda p: p.id,
            ),
            incoming=sorted((d for d in self.incoming if within(d.issue_date)), key=lambda d: d.id),
            payouts=[b for b in booked if b is not None and within(b.booked_on)],
        )


class InMemoryExportRepository:
    def __init__(self, table: InMemoryTable[tuple[ExportRecord, bytes]]) -> None:
        self.table = table

    async def get(self, key: str) -> tuple[ExportRecord, bytes] | None:
        return self.table.get(key)

    async def add(self, record: ExportRecord, file: bytes) -> None:
        if self.table.get(record.key) is not None:
            raise Conflict(f"the period {record.key} is being exported")
        self.table.insert((record, file))

    async def all(self) -> list[ExportRecord]:
        return [record for record, _ in self.table]


class InMemoryPartyAccounts:
    def __init__(self, table: InMemoryTable[tuple[str, str]]) -> None:
        self.table = table

    async def of(self, keys: Mapping[str, str]) -> dict[str, str]:
        found = {}
        for key, party in keys.items():
            row = self.table.get(key)
            legacy = self.table.get(party) if row is None else None
            if legacy is not None:  # a row keyed by the party in clear (before ADR 0115)
                self.table.insert((key, legacy[1]))
                self.table.delete(party)
                row = (key, legacy[1])
            if row is not None:
                found[key] = row[1]
        return found

    async def add(self, party: str, account: str) -> None:
        self.table.insert((party, account))
