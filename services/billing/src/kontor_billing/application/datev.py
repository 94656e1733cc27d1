"""The DATEV export of a period, and the open items (OPOS).

The first export of a period is kept as written (``datev_exports``: the file, its
creation time, the documents in it); every later export of that period answers those
same bytes, so an accountant importing it twice gets the same batch, and the EXTF
header's "created at" is the time of that first export (no wall clock in a re-export).
What was issued or booked for the period after it was exported (an incoming invoice
dated in it, a payment whose statement came late) is not slipped into the kept file: it
is listed as ``late_documents`` (``GET /exports``) and goes into a follow-up batch of the
period (``batch`` 2, 3, ...: only what no earlier batch of the period has, kept and
answered byte for byte like the first; ADR 0073).
A period that overlaps an exported one without being it is refused (it would book the
overlap twice).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from kontor_servicekit.clock import Clock
from kontor_servicekit.domain_errors import Conflict, NotFound
from kontor_servicekit.uow import Transactor

from kontor_billing.application.payouts import PayoutsUnitOfWork
from kontor_billing.domain.datev import (
    Accounts,
    Chart,
    Header,
    Period,
    PeriodSources,
    batch_description,
    bookings_of,
    extf_file,
    file_name,
    parties_of,
    party_account,
    source_keys,
    stored_party,
)


@dataclass(frozen=True)
class DatevPolicy:
    chart: Chart
    accounts: Accounts
    advisor: int
    client: int
    locked: bool = False
    fiscal_year_start_month: int = 1
    personal_accounts: bool = False
    """Debtors and creditors on personal accounts (10000-69999, 70000-99999), one per
    customer e-mail and supplier; default the collective accounts (ADR 0074)."""


@dataclass(frozen=True)
class ExportRecord:
    """A period as first exported."""

    period: Period
    created_at: datetime
    chart: Chart
    keys: list[str]
    bookings: int
    sha256: str
    file_name: str
    batch: int = 1
    """1 the period's first export; 2, 3, ... its follow-up batches (ADR 0073)."""

    @property
    def key(self) -> str:
        return self.period.key if self.batch == 1 else f"{self.period.key}#{self.batch}"


class AccountingSource(Protocol):
    """What a period booked, read from billing's collections (invoices, payments,
    incoming invoices, payout items)."""

    async def sources(self, start: date, end: date) -> PeriodSources: ...


class ExportRepository(Protocol):
    async def get(self, key: str) -> tuple[ExportRecord, bytes] | None: ...

    async def add(self, record: ExportRecord, file: bytes) -> None:
        """A second first export of the same period conflicts (unique key)."""
        ...

    async def all(self) -> list[ExportRecord]: ...


class PartyAccountRepository(Protocol):
    """The personal account given to each debtor and creditor, never changed, kept by
    the party's pseudonymous key (``stored_party``, ADR 0115)."""

    async def of(self, keys: Mapping[str, str]) -> dict[str, str]:
        """stored key -> account, for ``keys`` (stored key -> the party in clear: a row
        still keyed by it, from before ADR 0115, is re-keyed on the way)."""
        ...

    async def add(self, key: str, account: str) -> None: ...


class AccountingUnitOfWork(PayoutsUnitOfWork, Protocol):
    @property
    def accounting(self) -> AccountingSource: ...

    @property
    def party_accounts(self) -> PartyAccountRepository: ...

    @property
    def datev_exports(self) -> ExportRepository: ...


@dataclass(frozen=True)
class LateDocument:
    key: str
    kind: str
    number: str


@dataclass(frozen=True)
class DatevExport:
    record: ExportRecord
    file: bytes
    late: list[LateDocument]
    first: bool


KINDS = {"doc": "document", "pay": "payment", "in": "incoming_invoice", "out": "payout"}


def _late(records: list[ExportRecord], now_keys: list[str]) -> list[LateDocument]:
    """What the period books now that no batch of it has."""
    kept = {key for r in records for key in r.keys}
    return [
        LateDocument(key, KINDS.get(key.split(":")[0], "?"), key.split(":", 1)[1])
        for key in now_keys
        if key not in kept
    ]


async def _party_accounts(uow: AccountingUnitOfWork, parties: list[str]) -> dict[str, str]:
    """The personal account of each party, a new one (the next of its range, from the
    gap-free sequence ``datev_debtor``/``datev_creditor``) for a party seen first; kept
    under the party's pseudonymous key, never its e-mail, VAT id or name (ADR 0115)."""
    keys = {party: stored_party(party, uow.subject_id) for party in parties}
    known = await uow.party_accounts.of({key: party for party, key in keys.items()})
    for party in parties:
        key = keys[party]
        if key not in known:
            kind = party.split(":", 1)[0]
            known[key] = party_account(kind, await uow.next_sequence(f"datev_{kind}"))
            await uow.party_accounts.add(key, known[key])
    return {party: known[key] for party, key in keys.items()}


async def _batches(uow: AccountingUnitOfWork, wanted: Period) -> list[ExportRecord]:
    found = [r for r in await uow.datev_exports.all() if r.period.key == wanted.key]
    return sorted(found, key=lambda r: r.batch)


async def export_datev(
    transactor: Transactor[AccountingUnitOfWork],
    wanted: Period,
    *,
    policy: DatevPolicy,
    clock: Clock,
    batch: int = 1,
) -> DatevExport:
    """Batch 1: the period's first export (kept; later the same bytes). Batch n > 1: a
    follow-up with what came for the period after batch n-1 (made once, when it is
    the next one and something is late; then kept like the first)."""

    async def work(uow: AccountingUnitOfWork) -> DatevExport:
        sources = await uow.accounting.sources(wanted.start, wanted.end)
        bookings = bookings_of(sources, policy.accounts)
        keys = source_keys(bookings)
        batches = await _batches(uow, wanted)
        kept_one = next((r for r in batches if r.batch == batch), None)
        if kept_one is not None:
            found = await uow.datev_exports.get(kept_one.key)
            assert found is not None
            return DatevExport(found[0], found[1], _late(batches, keys), first=False)
        if batch == 1:
            for other in await uow.datev_exports.all():
                if other.period.overlaps(wanted):
                    raise Conflict(
                        f"the period overlaps the exported period {other.period.start} to "
                        f"{other.period.end}: export that period, or one that does not overlap"
                    )
        elif batch != len(batches) + 1 or not batches:
            raise NotFound("DATEV batch", f"{wanted.key} #{batch}")
        if policy.personal_accounts:
            parties = await _party_accounts(uow, parties_of(sources))
            bookings = bookings_of(sources, policy.accounts, parties)
        late = {d.key for d in _late(batches, keys)}
        if batch > 1:
            if not late:
                raise Conflict(
                    f"nothing was issued or booked for the period after batch {batch - 1}"
                )
            bookings = [b for b in bookings if source_keys([b])[0] in late]
        header = Header(
            created_at=clock(),
            advisor=policy.advisor,
            client=policy.client,
            chart=policy.chart,
            period=wanted,
            description=batch_description(wanted, batch),
            locked=policy.locked,
        )
        file = extf_file(header, bookings)
        record = ExportRecord(
            period=wanted,
            created_at=header.created_at,
            chart=policy.chart,
            keys=source_keys(bookings),
            bookings=len(bookings),
            sha256=hashlib.sha256(file).hexdigest(),
            file_name=file_name(header, batch),
            batch=batch,
        )
        await uow.datev_exports.add(record, file)
        return DatevExport(record, file, [], first=True)

    return await transactor.run(work)


@dataclass(frozen=True)
class ExportedPeriod:
    record: ExportRecord
    late: list[LateDocument]


async def exported_periods(
    transactor: Transactor[AccountingUnitOfWork], *, policy: DatevPolicy
) -> list[ExportedPeriod]:
    """Every exported period, newest first, with what came for it after its export."""

    async def work(uow: AccountingUnitOfWork) -> list[ExportedPeriod]:
        out = []
        records = await uow.datev_exports.all()
        for record in sorted(records, key=lambda r: (r.period.start, r.batch), reverse=True):
            now = bookings_of(
                await uow.accounting.sources(record.period.start, record.period.end),
                policy.accounts,
            )
            same = [r for r in records if r.period.key == record.period.key]
            out.append(ExportedPeriod(record, _late(same, source_keys(now))))
        return out

    return await transactor.run(work)
