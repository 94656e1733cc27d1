"""What the DATEV export and the open items read: billing's documents, the payments,
the incoming invoices and the payout items; and the kept exports (``datev_exports``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from kontor_servicekit.clock import BERLIN
from kontor_servicekit.domain_errors import Conflict
from kontor_servicekit.store import Store, Transaction
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kontor_billing.application.datev import ExportRecord
from kontor_billing.domain.datev import (
    STORED_PARTY,
    IncomingDocument,
    Period,
    PeriodSources,
    ReceivedPayment,
    VatPart,
    creditor_of,
    debtor_of,
    outgoing_of,
    payout_booking_of,
    stored_party,
)
from kontor_billing.domain.open_items import (
    BankBalance,
    OpenItem,
    OpenItems,
    Side,
    payable_item,
    receivable_items,
)
from kontor_billing.store.invoices import INVOICES, from_document
from kontor_billing.store.payouts import (
    INCOMING_INVOICES,
    PAYMENTS,
    PAYOUT_ITEMS,
    item_of,
    payable_of,
)
from kontor_billing.store.receivables import RECEIVABLES, receivable_of

DATEV_EXPORTS = "datev_exports"
DATEV_PARTY_ACCOUNTS = "datev_party_accounts"
BANK_ACCOUNTS = "bank_accounts"
BOOKED_INCOMING = ("approved", "paid", "booked")
#: Receivables that may still ask or owe something ("paid" ones balance out).
UNSETTLED = ("open", "partially_paid", "overpaid", "cancelled")
Document = dict[str, Any]


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The period's days in Berlin, as moments: [start 00:00, the day after end 00:00)."""
    return (
        datetime.combine(start, time(), BERLIN),
        datetime.combine(end + timedelta(days=1), time(), BERLIN),
    )


def _date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(BERLIN).date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def received_of(doc: Document, party: str | None = None) -> ReceivedPayment:
    return ReceivedPayment(
        id=str(doc["_id"]),
        received_on=doc["received_at"].astimezone(BERLIN).date(),
        amount=Decimal(str(doc["amount"])),
        method=str(doc.get("method") or "manual"),
        invoice_number=doc.get("invoice_number"),
        reference=doc.get("reference"),
        party=party,
    )


def incoming_of(doc: Document) -> IncomingDocument:
    """An incoming invoice as incoming invoices store it (``store/incoming.py`` of
    branch s3-incoming): ``vat_breakdown`` rows (``rate`` in percent, ``basis``, ``vat``)
    when known, else ``gross_total``."""
    rows = doc.get("vat_breakdown") or []
    parts = [
        VatPart(
            Decimal(str(r.get("rate", r.get("vat_rate")) or "0")),
            str(r.get("category") or "S"),
            Decimal(str(r.get("basis", r.get("net")) or "0")),
            Decimal(str(r.get("vat", "0"))),
        )
        for r in rows
    ] or [
        VatPart(
            Decimal("0"),
            "S",
            Decimal(str(doc.get("gross_total") or doc.get("amount_due") or "0")),
            Decimal("0"),
        )
    ]
    supplier = doc.get("supplier") or {}
    return IncomingDocument(
        id=str(doc["_id"]),
        number=str(doc.get("number") or doc["_id"]),
        issue_date=_date(doc.get("issue_date")) or date.min,
        supplier_name=str(supplier.get("name") or "?"),
        account=doc.get("approved_account"),
        parts=parts,
        due_date=_date(doc.get("due_date")),
        party=creditor_of(supplier.get("vat_id"), supplier.get("name")),
    )


def record_document(record: ExportRecord, file: bytes) -> Document:
    return {
        "_id": record.key,
        "batch": record.batch,
        "start": record.period.start.isoformat(),
        "end": record.period.end.isoformat(),
        "fiscal_year_start": record.period.fiscal_year_start.isoformat(),
        "created_at": record.created_at,
        "chart": record.chart,
        "keys": list(record.keys),
        "bookings": record.bookings,
        "sha256": record.sha256,
        "file_name": record.file_name,
        "file": file,
    }


def record_of(doc: Document) -> ExportRecord:
    return ExportRecord(
        period=Period(
            date.fromisoformat(doc["start"]),
            date.fromisoformat(doc["end"]),
            date.fromisoformat(doc["fiscal_year_start"]),
        ),
        created_at=doc["created_at"],
        chart=doc["chart"],
        keys=list(doc["keys"]),
        bookings=doc["bookings"],
        sha256=doc["sha256"],
        file_name=doc["file_name"],
        batch=int(doc.get("batch", 1)),
    )


class MongoAccountingSource:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def _find(self, collection: str, query: Document) -> list[Document]:
        cursor = self.tx.db[collection].find(query, session=self.tx.session).sort("_id", 1)
        return list(await cursor.to_list(None))

    async def _debtors(self, numbers: list[str | None]) -> dict[str, str]:
        """The debtor (buyer e-mail) of each document number."""
        wanted = sorted({n for n in numbers if n})
        if not wanted:
            return {}
        docs = await self._find(INVOICES, {"number": {"$in": wanted}})
        return {d["number"]: p for d in docs if (p := debtor_of(d.get("buyer", {}).get("email")))}

    async def _creditors(self, ids: list[str]) -> dict[str, str]:
        """The creditor of each incoming invoice id."""
        if not ids:
            return {}
        docs = await self._find(INCOMING_INVOICES, {"_id": {"$in": sorted(set(ids))}})
        return {str(d["_id"]): p for d in docs if (p := incoming_of(d).party)}

    async def sources(self, start: date, end: date) -> PeriodSources:
        first, after = day_bounds(start, end)
        iso = {"$gte": start.isoformat(), "$lte": end.isoformat()}
        documents = await self._find(INVOICES, {"issue_date": iso})
        payments = await self._find(
            PAYMENTS, {"direction": {"$ne": "out"}, "received_at": {"$gte": first, "$lt": after}}
        )
        incoming = await self._find(
            INCOMING_INVOICES, {"status": {"$in": list(BOOKED_INCOMING)}, "issue_date": iso}
        )
        payouts = await self._find(
            PAYOUT_ITEMS,
            {
                "status": {"$in": ["sent", "settled"]},
                "$or": [
                    {"sent_at": {"$gte": first, "$lt": after}},
                    {"sent_at": None, "settled_at": {"$gte": first, "$lt": after}},
                ],
            },
        )
        debtors = await self._debtors(
            [p.get("invoice_number") for p in payments]
            + [d["source_number"] for d in payouts if d.get("kind") == "refund"]
        )
        creditors = await self._creditors(
            [d["source_id"] for d in payouts if d.get("kind") == "supplier"]
        )
        booked = [
            payout_booking_of(
                item_of(d),
                debtors.get(d["source_number"])
                if d.get("kind") == "refund"
                else creditors.get(d["source_id"]),
            )
            for d in payouts
        ]
        return PeriodSources(
            documents=[outgoing_of(from_document(d)) for d in documents],
            payments=[received_of(d, debtors.get(d.get("invoice_number") or "")) for d in payments],
            incoming=[incoming_of(d) for d in incoming],
            payouts=[b for b in booked if b is not None and start <= b.booked_on <= end],
        )


class MongoPartyAccounts:
    """``datev_party_accounts``: ``_id`` the party's pseudonymous key
    (``debtor:subj_<hex>``, ``creditor:ps_<hex>``, ``stored_party``, ADR 0115), ``account``
    its personal account (ADR 0074), nothing else."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def of(self, keys: Mapping[str, str]) -> dict[str, str]:
        if not keys:
            return {}
        docs = await self._find_parties(sorted({*keys, *keys.values()}))
        by_id = {str(d["_id"]): str(d["account"]) for d in docs}
        found = {}
        for key, party in keys.items():
            if key not in by_id and party in by_id:  # keyed in clear, before ADR 0115
                await rekey_party_account(self.tx, party, key, by_id[party])
                by_id[key] = by_id[party]
            if key in by_id:
                found[key] = by_id[key]
        return found

    async def _find_parties(self, ids: list[str]) -> list[Document]:
        cursor = self.tx.db[DATEV_PARTY_ACCOUNTS].find(
            {"_id": {"$in": ids}}, session=self.tx.session
        )
        return list(await cursor.to_list(None))

    async def add(self, key: str, account: str) -> None:
        await self.tx.db[DATEV_PARTY_ACCOUNTS].insert_one(
            {"_id": key, "account": account}, session=self.tx.session
        )


async def rekey_party_account(tx: Transaction, old: str, key: str, account: str) -> None:
    """Move a personal account from ``old`` (the party in clear) to its pseudonymous
    ``key``, keeping only the account number (ADR 0115)."""
    await tx.db[DATEV_PARTY_ACCOUNTS].replace_one(
        {"_id": key}, {"_id": key, "account": account}, upsert=True, session=tx.session
    )
    await tx.db[DATEV_PARTY_ACCOUNTS].delete_one({"_id": old}, session=tx.session)


async def pseudonymise_party_accounts(store: Store) -> None:
    """Migration ``0700-datev-party-pseudonyms``: every row still keyed by the e-mail,
    VAT id or name moves to its pseudonymous key (ADR 0115); each in its own transaction,
    so a rerun after a crash finishes the rest."""
    cursor = store.db[DATEV_PARTY_ACCOUNTS].find({}, {"account": 1})
    legacy = [d async for d in cursor if not STORED_PARTY.match(str(d["_id"]))]
    for doc in legacy:
        old, account = str(doc["_id"]), str(doc["account"])

        async def move(tx: Transaction, old: str = old, account: str = account) -> None:
            await rekey_party_account(tx, old, stored_party(old, tx.subject_id), account)

        await store.transaction(move)


class MongoExportRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def get(self, key: str) -> tuple[ExportRecord, bytes] | None:
        doc = await self.tx.db[DATEV_EXPORTS].find_one({"_id": key}, session=self.tx.session)
        return None if doc is None else (record_of(doc), bytes(doc["file"]))

    async def add(self, record: ExportRecord, file: bytes) -> None:
        try:
            await self.tx.db[DATEV_EXPORTS].insert_one(
                record_document(record, file), session=self.tx.session
            )
        except DuplicateKeyError as exc:
            raise Conflict(f"the period {record.key} is being exported") from exc

    async def all(self) -> list[ExportRecord]:
        cursor = self.tx.db[DATEV_EXPORTS].find({}, {"file": 0}, session=self.tx.session)
        return [record_of(d) for d in await cursor.to_list(None)]


class OpenItemQueries:
    """OPOS: open receivables and payables, and the balance of the last statement."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def receivables(self, today: date) -> list[OpenItem]:
        """From the receivables ledger (ADR 0072): every payment, refund (Stripe's or a
        payout item's, ADR 0071), correction and cancellation is on it once."""
        cursor = self.db[RECEIVABLES].find({"status": {"$in": list(UNSETTLED)}})
        return receivable_items([receivable_of(d) async for d in cursor], today)

    async def payables(self, today: date) -> list[OpenItem]:
        paid_out = set(
            await self.db[PAYOUT_ITEMS].distinct(
                "source_id", {"kind": "supplier", "status": {"$in": ["sent", "settled"]}}
            )
        )
        items = []
        async for doc in self.db[INCOMING_INVOICES].find({"status": "approved"}).sort("_id", 1):
            if str(doc["_id"]) in paid_out:
                continue
            payable = payable_of(doc)
            items.append(
                payable_item(
                    number=payable.number,
                    supplier=payable.supplier_name,
                    issue_date=_date(doc.get("issue_date")),
                    due_date=payable.due_date,
                    currency=payable.currency,
                    amount_due=payable.amount_due,
                    skonto_until=payable.skonto.until if payable.skonto else None,
                    today=today,
                    record_id=str(doc["_id"]),
                )
            )
        return sorted(items, key=lambda i: (-i.days_overdue, i.due_date or date.max, i.number))

    async def open_items(self, side: Side, today: date) -> OpenItems:
        items = await (self.receivables(today) if side == "receivable" else self.payables(today))
        return OpenItems(side, today, items, await self.last_balance())

    async def last_balance(self) -> BankBalance | None:
        """The closing balance of the newest statement (``bank_accounts``, kept by the
        bank-statement import per IBAN: ``balance`` {``amount``, ``on``})."""
        doc = await self.db[BANK_ACCOUNTS].find_one(
            {"balance": {"$ne": None}}, sort=[("balance.on", -1)]
        )
        if doc is None:
            return None
        balance = doc["balance"]
        when = _date(balance.get("on"))
        if when is None:
            return None
        return BankBalance(
            Decimal(str(balance["amount"])), when, str(doc.get("iban") or doc["_id"])
        )
