"""The retention purge (§147 AO, ADR 0027): deletes documents whose retention period has
ended, nothing younger, and leaves a tombstone on the audit chain so it still verifies.

Every number is checked before anything is deleted: one number still within its period
refuses the whole request (Conflict). Each document is then deleted in a unit of work of
its own, together with the ``purged`` entry on its chain that carries the SHA-256 of the
document as it was stored; the store deletes only a document issued before the first
day after the year that may go, so a wrong caller cannot delete a younger one either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kontor_servicekit.clock import Clock
from kontor_servicekit.domain_errors import Conflict, NotFound
from kontor_servicekit.uow import Transactor

from kontor_billing.application.invoicing import _chain
from kontor_billing.application.unit_of_work import BillingUnitOfWork
from kontor_billing.domain.retention import (
    PURGED,
    Deletable,
    RetentionPeriods,
    last_deletable_year,
)


@dataclass(frozen=True)
class Purged:
    number: str
    kind: str
    year: int
    document_sha256: str


async def purge_documents(
    transactor: Transactor[BillingUnitOfWork],
    numbers: list[str],
    *,
    periods: RetentionPeriods,
    clock: Clock,
    today: date,
) -> list[Purged]:
    """Delete the documents ``numbers`` if every one's period ended before ``today``."""

    async def check(uow: BillingUnitOfWork) -> list[Deletable]:
        found = []
        for number in numbers:
            issued = await uow.retained.issued(number)
            if issued is None:
                raise NotFound("document", number)
            kind, day = issued
            deletable = Deletable.of(number, kind, day.year, periods)
            if not deletable.deletable_on(today):
                raise Conflict(
                    f"{number} must be kept until {deletable.retention_ends:%d.%m.%Y} "
                    f"(§147 AO, {periods.years(kind)} years); nothing was deleted"
                )
            found.append(deletable)
        return found

    purged = []
    for d in await transactor.run(check):

        async def work(uow: BillingUnitOfWork, d: Deletable = d) -> Purged:
            youngest = last_deletable_year(today, periods.years(d.kind))
            sha256 = await uow.retained.purge(d.number, issued_before=date(youngest + 1, 1, 1))
            await _chain(
                uow,
                d.number,
                PURGED,
                sha256,
                at=clock(),
                detail=f"retention ended {d.retention_ends.isoformat()}",
            )
            return Purged(d.number, d.kind, d.year, sha256)

        purged.append(await transactor.run(work))
    return purged
