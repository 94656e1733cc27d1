"""Whose tax documents are restricted: the buyers billing erased (issue 13, ADR 0037).

An erasure keeps billing's invoices, cancellations and corrections as issued (§147 AO,
§14b UStG; ADR 0021), and records the person's subject id in ``erased_subjects`` (no
e-mail: the id is the keyed pseudonym of it, ``kontor_servicekit.privacy``). A document
issued to that person on or before the erasure is then *restricted*: the buyer's name,
e-mail, street, company and VAT id are shown to a holder of ``billing:tax`` only (the
tax office, the merchant's tax adviser), and its PDF and XML, which print them, too.
A document issued after the erasure (the person bought again) is not restricted; a
cancellation, correction or reissued invoice counts from the first document of its order
(it copies that buyer, ADR 0113).

Billing's other records of the person follow their documents (ADR 0075): a receivable,
payment, dunning notice, bank booking or refund payout is restricted when the document
it belongs to is; an incoming invoice when its supplier (a sole trader, by the seller
e-mail) was erased after it was received; a file (a bank statement, a payment run's
pain.001, a DATEV batch) when one of its entries is. Nothing is stored for this: the
questions below are asked when a route answers. The one exception: a bank credit that
paid nothing of theirs is linked to them by nothing but its payer, so the erasure keeps
the keyed pseudonyms of the person's payer IBANs and names (``payer_keys`` on their
``erased_subjects`` row, ADR 0114).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from kontor_servicekit.privacy.keys import Pseudonyms
from kontor_servicekit.store import Transaction
from pymongo.asynchronous.database import AsyncDatabase

from kontor_billing.domain.erasure import counted_from, made_before_erasure, payer_identities
from kontor_billing.domain.invoice import Invoice
from kontor_billing.store.bank_statements import BANK_STATEMENTS, BANK_TRANSACTIONS
from kontor_billing.store.datev import day_bounds
from kontor_billing.store.incoming import INCOMING
from kontor_billing.store.invoices import INVOICES
from kontor_billing.store.payouts import PAYMENT_RUNS, PAYMENTS, PAYOUT_ITEMS

ERASED_SUBJECTS = "erased_subjects"
K = TypeVar("K", bound=Hashable)
#: A bank booking as the questions need it: (id, invoice numbers it paid, payout item it
#: settled, payer IBAN, payer name, imported at)
BookingRef = tuple[str, Sequence[str], str | None, str | None, str | None, datetime]
BOOKING_FIELDS = {
    "allocations.invoice_number": 1,
    "payout_id": 1,
    "counterparty_iban": 1,
    "counterparty_name": 1,
    "imported_at": 1,
}


def booking_ref(doc: dict[str, Any]) -> BookingRef:
    """A stored bank booking (``BOOKING_FIELDS`` at least) as the questions need it."""
    return (
        str(doc["_id"]),
        [a["invoice_number"] for a in doc.get("allocations") or []],
        doc.get("payout_id"),
        doc.get("counterparty_iban"),
        doc.get("counterparty_name"),
        doc["imported_at"],
    )


def payer_keys(
    pseudonym: Callable[[str], str], payers: Iterable[tuple[str | None, str | None]]
) -> list[str]:
    """The keyed pseudonyms (``payer_<hex>``) of (IBAN, name) pairs: what
    ``erased_subjects`` keeps to know an erased person's payments. ``pseudonym`` is the
    service's subject-id function (the keyed HMAC of ADR 0034)."""
    identities = {i for iban, name in payers for i in payer_identities(iban, name)}
    return sorted("payer_" + pseudonym(i).removeprefix("subj_") for i in identities)


async def record_erased(
    tx: Transaction, subject_id: str, now: datetime, payers: Iterable[str] = ()
) -> None:
    """Remember that ``subject_id`` was erased (the latest erasure counts) and, as
    ``payer_keys`` (added to those of an earlier erasure), their payers' pseudonyms."""
    await tx.db[ERASED_SUBJECTS].update_one(
        {"_id": subject_id},
        {"$set": {"erased_at": now}, "$addToSet": {"payer_keys": {"$each": sorted(payers)}}},
        upsert=True,
        session=tx.session,
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
        return {
            key: s for key, s, at in subjects if s in erased and made_before_erasure(at, erased[s])
        }

    async def _order_documents(self, order_ids: Iterable[str]) -> dict[str, list[datetime]]:
        """order id -> when each of its documents (committed ones) was issued."""
        wanted = sorted(set(order_ids))
        if not wanted:
            return {}
        cursor = self.db[INVOICES].find(
            {"order_id": {"$in": wanted}}, {"order_id": 1, "issued_at": 1}
        )
        found: dict[str, list[datetime]] = {}
        async for d in cursor:
            found.setdefault(d["order_id"], []).append(d["issued_at"])
        return found

    async def _people(
        self, documents: Sequence[tuple[str, str | None, datetime, str]]
    ) -> dict[str, str]:
        """key -> subject id for (key, buyer e-mail, issued at, order id): a document
        counts from its order's first one, whose buyer it copies (a cancellation, a
        correction, a reissue after the erasure is restricted as that invoice is)."""
        orders = await self._order_documents(o for _, _, _, o in documents)
        return await self.erased_people(
            (key, email, counted_from(at, orders.get(order_id, ())))
            for key, email, at, order_id in documents
        )

    async def restricted(self, invoices: Iterable[Invoice]) -> set[str]:
        """The ids of those ``invoices`` whose buyer was erased after they (or the
        first document of their order) were issued."""
        documents = [(i.id, i.buyer.email, i.issued_at, i.order_id) for i in invoices]
        return set(await self._people(documents))

    async def restricted_numbers(self, numbers: Iterable[str | None]) -> dict[str, str]:
        """document number (invoice, cancellation, correction) -> subject id, for the
        restricted ones among ``numbers``."""
        wanted = sorted({n for n in numbers if n})
        if not wanted:
            return {}
        projection = {"number": 1, "customer_email": 1, "issued_at": 1, "order_id": 1}
        cursor = self.db[INVOICES].find({"number": {"$in": wanted}}, projection)
        docs = [d async for d in cursor]
        return await self._people(
            [(d["number"], d.get("customer_email"), d["issued_at"], d["order_id"]) for d in docs]
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

    async def restricted_bookings(self, bookings: Iterable[BookingRef]) -> dict[str, str]:
        """bank booking id -> subject id: a credit allocated to an erased person's
        document, a debit that paid a refund to them or a supplier invoice of theirs, and
        a booking allocated to nothing whose payer is theirs (``restricted_payers``)."""
        wanted = list(bookings)
        documents = await self.restricted_numbers(n for b in wanted for n in b[1])
        payout_ids = sorted({b[2] for b in wanted if b[2]})
        payouts = await self._payout_subjects({"_id": {"$in": payout_ids}}) if payout_ids else {}
        payers = await self.restricted_payers(
            (key, iban, name, at)
            for key, numbers, payout, iban, name, at in wanted
            if not numbers and not payout
        )
        found = {}
        for key, numbers, payout, *_ in wanted:
            subjects = [documents[n] for n in numbers if n in documents]
            if payout in payouts:
                subjects.append(payouts[payout])
            if key in payers:
                subjects.append(payers[key])
            if subjects:
                found[key] = subjects[0]
        return found

    async def restricted_payers(
        self, bookings: Iterable[tuple[str, str | None, str | None, datetime]]
    ) -> dict[str, str]:
        """bank booking id -> subject id for (id, payer IBAN, payer name, imported at):
        the payer is an account or name an erased person paid or was paid from (kept as
        ``payer_keys`` at the erasure, ADR 0114) and billing had the booking by then."""
        if self.pseudonyms is None:
            return {}
        pseudonym = self.pseudonyms.subject_id
        keyed = [
            (key, payer_keys(pseudonym, [(iban, name)]), at) for key, iban, name, at in bookings
        ]
        wanted = sorted({k for _, keys, _ in keyed for k in keys})
        if not wanted:
            return {}
        cursor = self.db[ERASED_SUBJECTS].find(
            {"payer_keys": {"$in": wanted}}, {"erased_at": 1, "payer_keys": 1}
        )
        people: dict[str, list[tuple[str, datetime]]] = {}
        async for doc in cursor:
            for k in doc.get("payer_keys") or []:
                people.setdefault(k, []).append((doc["_id"], doc["erased_at"]))
        found = {}
        for key, keys, at in keyed:
            hits = [
                s
                for k in keys
                for s, erased in people.get(k, [])
                if made_before_erasure(at, erased)
            ]
            if hits:
                found[key] = hits[0]
        return found

    async def statement_restricted(self, statement_id: str) -> bool:
        """Whether the statement file carries a booking of an erased person."""
        doc = await self.db[BANK_STATEMENTS].find_one({"_id": statement_id}, {"parts": 1})
        ids = [t for p in (doc or {}).get("parts") or [] for t in p.get("transaction_ids") or []]
        if not ids:
            return False
        cursor = self.db[BANK_TRANSACTIONS].find({"_id": {"$in": sorted(set(ids))}}, BOOKING_FIELDS)
        bookings = [booking_ref(d) async for d in cursor]
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
