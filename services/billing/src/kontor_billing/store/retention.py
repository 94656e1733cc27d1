"""What has become deletable by its retention period (ADR 0027): a read, nothing is
deleted here. Documents by their issue date (Europe/Berlin, stored as ``issue_date``),
audit chains by the year of their number range (``RE-2017``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from kontor_servicekit.store import find_page
from pymongo.asynchronous.database import AsyncDatabase

from kontor_billing.domain.invoice import KINDS
from kontor_billing.domain.retention import Deletable, RetentionPeriods, last_deletable_year
from kontor_billing.store.invoices import INVOICES
from kontor_billing.store.ledger import AUDIT

Document = dict[str, Any]


@dataclass(frozen=True)
class DeletableList:
    as_of: date
    documents: list[Deletable]
    """One page of the documents, oldest number first."""
    total: int
    """Documents on all pages."""
    audit_chains: list[Deletable]


class RetentionQueries:
    def __init__(self, db: AsyncDatabase[Document], periods: RetentionPeriods) -> None:
        self.db = db
        self.periods = periods

    def _documents_query(self, as_of: date) -> Document:
        return {
            "$or": [
                {
                    "kind": kind,
                    "issue_date": {
                        "$lt": f"{last_deletable_year(as_of, self.periods.years(kind)) + 1:04d}"
                    },
                }
                for kind in KINDS
            ]
        }

    async def deletable(self, as_of: date, *, page: int = 1, page_size: int = 100) -> DeletableList:
        docs, total = await find_page(
            self.db[INVOICES],
            self._documents_query(as_of),
            [("issue_date", 1), ("number", 1)],
            page=page,
            page_size=page_size,
        )
        documents = [
            Deletable.of(d["number"], d["kind"], int(d["issue_date"][:4]), self.periods)
            for d in docs
        ]
        chains = []
        for chain in sorted(await self.db[AUDIT].distinct("chain")):
            year = chain.rsplit("-", 1)[-1]
            if year.isdigit():
                chains.append(Deletable.of(chain, "audit_chain", int(year), self.periods))
        return DeletableList(
            as_of=as_of,
            # the query chose them; the rule says so too (a wrong query must not purge)
            documents=[d for d in documents if d.deletable_on(as_of)],
            total=total,
            audit_chains=[c for c in chains if c.deletable_on(as_of)],
        )
