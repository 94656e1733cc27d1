"""What has become deletable by its retention period (ADR 0027): a read, nothing is
deleted here. Documents by their issue date (Europe/Berlin, stored as ``issue_date``),
audit chains by the year of their number range (``RE-2017``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from kontor_servicekit.clock import BERLIN
from kontor_servicekit.fakes import InMemoryTable
from kontor_servicekit.store import Transaction, find_page
from pymongo.asynchronous.database import AsyncDatabase

from kontor_billing.domain.invoice import KINDS, Invoice
from kontor_billing.domain.retention import Deletable, RetentionPeriods, last_deletable_year
from kontor_billing.store.canonical import document_sha256
from kontor_billing.store.invoices import INVOICES, to_document
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
            # a book's period runs from the year of its last entry (§147 Abs. 4 AO)
            last = await self.db[AUDIT].find_one({"chain": chain}, sort=[("seq", -1)])
            if last is not None:
                year = last["at"].astimezone(BERLIN).year
                chains.append(Deletable.of(chain, "audit_chain", year, self.periods))
        return DeletableList(
            as_of=as_of,
            # the query chose them; the rule says so too (a wrong query must not purge)
            documents=[d for d in documents if d.deletable_on(as_of)],
            total=total,
            audit_chains=[c for c in chains if c.deletable_on(as_of)],
        )


class MongoRetainedDocuments:
    """``RetainedDocuments`` inside one Mongo transaction: the only delete of ``invoices``,
    and only of a document issued before the day it is given."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def issued(self, number: str) -> tuple[str, date] | None:
        doc = await self.tx.db[INVOICES].find_one(
            {"number": number}, {"kind": 1, "issue_date": 1}, session=self.tx.session
        )
        return None if doc is None else (doc["kind"], date.fromisoformat(doc["issue_date"]))

    async def purge(self, number: str, *, issued_before: date) -> str:
        query = {"number": number, "issue_date": {"$lt": issued_before.isoformat()}}
        doc = await self.tx.db[INVOICES].find_one(query, session=self.tx.session)
        if doc is None:
            raise LookupError(f"no document {number} issued before {issued_before}")
        await self.tx.db[INVOICES].delete_one({"_id": doc["_id"], **query}, session=self.tx.session)
        return document_sha256(doc)


class InMemoryRetainedDocuments:
    def __init__(self, table: InMemoryTable[Invoice]) -> None:
        self.table = table

    async def issued(self, number: str) -> tuple[str, date] | None:
        found = self.table.where(lambda i: i.number == number)
        return (found[0].kind, found[0].issue_date) if found else None

    async def purge(self, number: str, *, issued_before: date) -> str:
        found = self.table.where(lambda i: i.number == number and i.issue_date < issued_before)
        if not found:
            raise LookupError(f"no document {number} issued before {issued_before}")
        self.table.delete(found[0].id)
        return document_sha256(to_document(found[0]))
