"""Whose tax documents are restricted: the buyers billing erased (issue 13, ADR 0037).

An erasure keeps billing's invoices, cancellations and corrections as issued (§147 AO,
§14b UStG; ADR 0021), and records the person's subject id in ``erased_subjects`` (no
e-mail: the id is the keyed pseudonym of it, ``kontor_servicekit.privacy``). A document
issued to that person on or before the erasure is then *restricted*: the buyer's name,
e-mail, street, company and VAT id are shown to a holder of ``billing:tax`` only (the
tax office, the merchant's tax adviser), and its PDF and XML, which print them, too.
A document issued after the erasure (the person bought again) is not restricted; a
cancellation or correction counts from the invoice it refers to (it copies its buyer).

Billing's other records of the person follow their documents (ADR 0075): a receivable,
payment, dunning notice, bank booking or refund payout is restricted when the document
it belongs to is; an incoming invoice when its supplier (a sole trader, by the seller
e-mail) was erased after it was received; a file (a bank statement, a payment run's
pain.001, a DATEV batch) when one of its entries is. Nothing is stored for this: the
questions below are asked when a route answers.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from kontor_servicekit.privacy.keys import Pseudonyms
from kontor_servicekit.store import Transaction
from pymongo.asynchronous.database import AsyncDatabase

from kontor_billing.domain.invoice import Invoice
from kontor_billing.store.bank_statements import BANK_STATEMENTS, BANK_TRANSACTIONS
from kontor_billing.store.datev import day_bounds
from kontor_billing.store.incoming import INCOMING
from kontor_billing.store.invoices import INVOICES
from kontor_billing.store.payouts import PAYMENT_RUNS, PAYMENTS, PAYOUT_ITEMS

ERASED_SUBJECTS = "erased_subjects"
K = TypeVar("K", bound=Hashable)


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

    async def erased_at(self, email: str) -> datetime | None:
        """When the person of ``email`` was erased (the latest time), None if never."""
        if self.pseudonyms is None:
            return None
        found = await self.db[ERASED_SUBJECTS].find_one({"_id": self.pseudonyms.subject_id(email)})
        return None if found is None else found["erased_at"]

    async def erased_people(self, people: Iterable[tuple[K, str | None, datetime]]) -> dict[K, str]:
        """key -> subject id, for each (key, e-mail, moment) whose person was erased at or
        after that moment (a record made after the erasure is the person's new one)."""
        if self.pseudonyms is None:
            return {}
        pseudonyms = self.pseudonyms
        subjects = [(key, pseudonyms.subject_id(email), at) for key, email, at in people if email]
        wanted = sorted({s for _, s, _ in subjects})
        if not wanted:
            return {}
        cursor = self.db[ERASED_SUBJECTS].find({"_id": {"$in": wanted}})
        erased = {doc["_id"]: doc["erased_at"] async for doc in cursor}
        return {key: s for key, s, at in subjects if s in erased and at <= erased[s]}

    async def _issued(self, numbers: Iterable[str]) -> dict[str, datetime]:
        wanted = sorted(set(numbers))
        if not wanted:
            return {}
        cursor = self.db[INVOICES].find({"number": {"$in": wanted}}, {"number": 1, "issued_at": 1})
        return {d["number"]: d["issued_at"] async for d in cursor}

    async def _people(
        self, documents: Sequence[tuple[str, str | None, datetime, str | None]]
    ) -> dict[str, str]:
        """key -> subject id for (key, buyer e-mail, issued at, the invoice it refers to):
        a cancellation or correction counts from its invoice, whose buyer it copies, so
        one issued after the erasure for an invoice from before is restricted too."""
        originals = await self._issued(o for _, _, _, o in documents if o)
        return await self.erased_people(
            (key, email, originals.get(original, at) if original else at)
            for key, email, at, original in documents
        )

    async def restricted(self, invoices: Iterable[Invoice]) -> set[str]:
        """The ids of those ``invoices`` whose buyer was erased after they (or the
        invoice they refer to) were issued."""
        documents = [(i.id, i.buyer.email, i.issued_at, i.original_number) for i in invoices]
        return set(await self._people(documents))

    async def restricted_numbers(self, numbers: Iterable[str | None]) -> dict[str, str]:
        """document number (invoice, cancellation, correction) -> subject id, for the
        restricted ones among ``numbers``."""
        wanted = sorted({n for n in numbers if n})
        if not wanted:
            return {}
        projection = {"number": 1, "customer_email": 1, "issued_at": 1, "original_number": 1}
        cursor = self.db[INVOICES].find({"number": {"$in": wanted}}, projection)
        docs = [d async for d in cursor]
        return await self._people(
            [
                (d["number"], d.get("customer_email"), d["issued_at"], d.get("original_number"))
                for d in docs
            ]
        )

    async def restricted_incoming(self, ids: Iterable[str]) -> dict[str, str]:
        """incoming invoice id -> subject id, for those whose supplier (a person) was
        erased after the invoice was received."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        projection = {"supplier.email": 1, "received_at": 1}
        cursor = self.db[INCOMING].find({"_id": {"$in": wanted}}, projection)
        docs = [d async for d in cursor]
        return await self.erased_people(
            (str(d["_id"]), (d.get("supplier") or {}).get("email"), d["received_at"]) for d in docs
        )

    async def restricted_payouts(
        self, items: Iterable[tuple[str, str, str, str]]
    ) -> dict[str, str]:
        """payout item key -> subject id for (key, kind, source_id, source_number): a
        refund follows its correction or cancellation, a supplier payment its invoice."""
        items = list(items)
        documents = await self.restricted_numbers(n for _, kind, _, n in items if kind == "refund")
        suppliers = await self.restricted_incoming(i for _, kind, i, _ in items if kind != "refund")
        found = {}
        for key, kind, source_id, source_number in items:
            subject = documents.get(source_number) if kind == "refund" else suppliers.get(source_id)
            if subject is not None:
                found[key] = subject
        return found

    async def _payout_subjects(self, query: dict[str, Any]) -> dict[str, str]:
        """payout item id -> subject id, for the restricted items ``query`` finds."""
        projection = {"kind": 1, "source_id": 1, "source_number": 1}
        cursor = self.db[PAYOUT_ITEMS].find(query, projection)
        docs = [d async for d in cursor]
        return await self.restricted_payouts(
            (str(d["_id"]), d["kind"], d["source_id"], d["source_number"]) for d in docs
        )

    async def restricted_bookings(
        self, bookings: Iterable[tuple[str, Iterable[str], str | None]]
    ) -> dict[str, str]:
        """bank booking id -> subject id for (id, invoice numbers it paid, payout item it
        settled): a credit allocated to an erased person's document, a debit that paid a
        refund to them or a supplier invoice of theirs."""
        wanted = [(key, list(numbers), payout) for key, numbers, payout in bookings]
        documents = await self.restricted_numbers(n for _, ns, _ in wanted for n in ns)
        payout_ids = sorted({p for _, _, p in wanted if p})
        payouts = await self._payout_subjects({"_id": {"$in": payout_ids}}) if payout_ids else {}
        found = {}
        for key, numbers, payout in wanted:
            subjects = [documents[n] for n in numbers if n in documents]
            if payout in payouts:
                subjects.append(payouts[payout])
            if subjects:
                found[key] = subjects[0]
        return found

    async def statement_restricted(self, statement_id: str) -> bool:
        """Whether the statement file carries a booking of an erased person."""
        doc = await self.db[BANK_STATEMENTS].find_one({"_id": statement_id}, {"parts": 1})
        ids = [t for p in (doc or {}).get("parts") or [] for t in p.get("transaction_ids") or []]
        if not ids:
            return False
        projection = {"allocations.invoice_number": 1, "payout_id": 1}
        cursor = self.db[BANK_TRANSACTIONS].find({"_id": {"$in": sorted(set(ids))}}, projection)
        bookings = [
            (
                str(d["_id"]),
                [a["invoice_number"] for a in d.get("allocations") or []],
                d.get("payout_id"),
            )
            async for d in cursor
        ]
        return bool(await self.restricted_bookings(bookings))

    async def run_restricted(self, run_id: str) -> bool:
        """Whether the payment run's file pays an erased person."""
        doc = await self.db[PAYMENT_RUNS].find_one({"_id": run_id}, {"item_ids": 1})
        ids = list((doc or {}).get("item_ids") or [])
        return bool(ids) and bool(await self._payout_subjects({"_id": {"$in": ids}}))

    async def datev_restricted(self, keys: Iterable[str], start: date, end: date) -> bool:
        """Whether a DATEV batch of the period ``start``-``end`` with these source keys
        (``doc:RE-…``, ``in:<id>``, ``out:AZ-…``) names an erased person in its booking
        texts. A payment's key holds only its source (``pay:bank``), so every payment
        received in the period counts (a batch may be restricted for one it lacks)."""
        kinds: dict[str, set[str]] = {}
        for key in keys:
            kind, _, rest = key.partition(":")
            kinds.setdefault(kind, set()).add(rest.split(":")[0])
        first, after = day_bounds(start, end)
        paid = {"direction": {"$ne": "out"}, "received_at": {"$gte": first, "$lt": after}}
        cursor = self.db[PAYMENTS].find(paid, {"invoice_number": 1})
        numbers = [*kinds.get("doc", ()), *[d.get("invoice_number") async for d in cursor]]
        if await self.restricted_numbers(numbers):
            return True
        if await self.restricted_incoming(kinds.get("in", ())):
            return True
        outs = sorted(kinds.get("out", ()))
        return bool(outs) and bool(await self._payout_subjects({"number": {"$in": outs}}))
