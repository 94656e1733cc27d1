"""Whose tax documents are restricted: the buyers billing erased (issue 13, ADR 0037).

An erasure keeps billing's invoices, cancellations and corrections as issued (§147 AO,
§14b UStG; ADR 0021), and records the person's subject id in ``erased_subjects`` (no
e-mail: the id is the keyed pseudonym of it, ``kontor_servicekit.privacy``). A document
issued to that person on or before the erasure is then *restricted*: the buyer's name,
e-mail, street, company and VAT id are shown to a holder of ``billing:tax`` only (the
tax office, the merchant's tax adviser), and its PDF and XML, which print them, too.
A document issued after the erasure (the person bought again) is not restricted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from kontor_servicekit.privacy.keys import Pseudonyms
from kontor_servicekit.store import Transaction
from pymongo.asynchronous.database import AsyncDatabase

from kontor_billing.domain.invoice import Invoice

ERASED_SUBJECTS = "erased_subjects"


async def record_erased(tx: Transaction, subject_id: str, now: datetime) -> None:
    """Remember that ``subject_id`` was erased (the latest erasure counts)."""
    await tx.db[ERASED_SUBJECTS].update_one(
        {"_id": subject_id}, {"$set": {"erased_at": now}}, upsert=True, session=tx.session
    )


class ErasedBuyers:
    """Answers which documents are restricted (see the module docstring)."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], pseudonyms: Pseudonyms | None) -> None:
        self.db = db
        self.pseudonyms = pseudonyms

    def subject_of(self, invoice: Invoice) -> str | None:
        return None if self.pseudonyms is None else self.pseudonyms.subject_id(invoice.buyer.email)

    async def restricted(self, invoices: Iterable[Invoice]) -> set[str]:
        """The ids of those ``invoices`` whose buyer was erased after they were issued."""
        subjects = {i.id: (i, self.subject_of(i)) for i in invoices}
        wanted = sorted({s for _, s in subjects.values() if s is not None})
        if not wanted:
            return set()
        cursor = self.db[ERASED_SUBJECTS].find({"_id": {"$in": wanted}})
        erased = {doc["_id"]: doc["erased_at"] async for doc in cursor}
        return {
            invoice_id
            for invoice_id, (invoice, subject) in subjects.items()
            if subject in erased and invoice.issued_at <= erased[subject]
        }
