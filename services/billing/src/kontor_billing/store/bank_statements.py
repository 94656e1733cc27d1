"""Bank statements in billing's database (issue 12, ADR 0030).

- GridFS bucket ``bank_statement_files``: each uploaded file as it came, ``_id`` its
  SHA-256 (GoBD: kept unchanged; the same file is stored once);
- ``bank_statements``: one per file (``_id`` the SHA-256): format, name, size, per
  account the statement's id, balances and booking ids;
- ``bank_transactions``: one per booking (``_id`` from ``booking_ids``), never twice;
- ``bank_accounts``: per IBAN the closing balance of the latest statement.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any

from gridfs import AsyncGridFSBucket
from gridfs.errors import FileExists
from kontor_servicekit.store import Transaction
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kontor_billing.domain.bank_statements import (
    Allocation,
    Balance,
    BankAccount,
    BankStatement,
    BankTransaction,
    StatementLine,
    StatementPart,
)
from kontor_billing.domain.reconciliation import OpenItem, references_in
from kontor_billing.store.receivables import RECEIVABLES, receivable_of

FILES_BUCKET = "bank_statement_files"
BANK_STATEMENTS = "bank_statements"
BANK_TRANSACTIONS = "bank_transactions"
BANK_ACCOUNTS = "bank_accounts"
MAX_CANDIDATES = 50

Document = dict[str, Any]


# ------------------------------------------------------------------ documents


def _balance_doc(b: Balance | None) -> Document | None:
    return (
        None if b is None else {"amount": b.amount, "currency": b.currency, "on": b.on.isoformat()}
    )


def _balance_of(doc: Document | None) -> Balance | None:
    if doc is None:
        return None
    return Balance(Decimal(str(doc["amount"])), doc["currency"], date.fromisoformat(doc["on"]))


def statement_document(s: BankStatement) -> Document:
    return {
        "_id": s.id,
        "format": s.format,
        "filename": s.filename,
        "size": s.size,
        "imported_at": s.imported_at,
        "parts": [
            {
                **{k: v for k, v in asdict(p).items() if k not in ("opening", "closing")},
                "transaction_ids": list(p.transaction_ids),
                "opening": _balance_doc(p.opening),
                "closing": _balance_doc(p.closing),
            }
            for p in s.parts
        ],
    }


def statement_of(doc: Document) -> BankStatement:
    return BankStatement(
        id=doc["_id"],
        format=doc["format"],
        filename=doc.get("filename"),
        size=doc["size"],
        imported_at=doc["imported_at"],
        parts=[
            StatementPart(
                **{
                    **{k: v for k, v in p.items() if k not in ("opening", "closing")},
                    "transaction_ids": tuple(p["transaction_ids"]),
                    "opening": _balance_of(p.get("opening")),
                    "closing": _balance_of(p.get("closing")),
                }
            )
            for p in doc["parts"]
        ],
    )


def account_document(a: BankAccount) -> Document:
    return {
        "_id": a.iban,
        "iban": a.iban,
        "currency": a.currency,
        "balance": _balance_doc(a.balance),
        "statement_id": a.statement_id,
        "updated_at": a.updated_at,
    }


def account_of(doc: Document) -> BankAccount:
    return BankAccount(
        iban=doc["iban"],
        currency=doc["currency"],
        balance=_balance_of(doc.get("balance")),
        statement_id=doc.get("statement_id"),
        updated_at=doc.get("updated_at"),
    )


def transaction_document(t: BankTransaction) -> Document:
    line = t.line
    return {
        "_id": t.id,
        "account_iban": t.account_iban,
        "statement_id": t.statement_id,
        "status": t.status,
        "direction": line.direction,
        "amount": line.amount,
        "currency": line.currency,
        "booking_date": line.booking_date.isoformat(),
        "value_date": line.value_date.isoformat() if line.value_date else None,
        "counterparty_name": line.counterparty_name,
        "counterparty_iban": line.counterparty_iban,
        "remittance": line.remittance,
        "end_to_end_id": line.end_to_end_id,
        "bank_reference": line.bank_reference,
        "bank_code": line.bank_code,
        "imported_at": t.imported_at,
        "allocations": [asdict(a) for a in t.allocations],
        "matched_by": t.matched_by,
        "payout_id": t.payout_id,
        "note": t.note,
        "decided_at": t.decided_at,
        "reason": t.reason,
    }


def transaction_of(doc: Document) -> BankTransaction:
    return BankTransaction(
        id=doc["_id"],
        account_iban=doc["account_iban"],
        statement_id=doc["statement_id"],
        line=StatementLine(
            direction=doc["direction"],
            amount=Decimal(str(doc["amount"])),
            currency=doc["currency"],
            booking_date=date.fromisoformat(doc["booking_date"]),
            value_date=date.fromisoformat(doc["value_date"]) if doc.get("value_date") else None,
            counterparty_name=doc.get("counterparty_name"),
            counterparty_iban=doc.get("counterparty_iban"),
            remittance=doc.get("remittance") or "",
            end_to_end_id=doc.get("end_to_end_id"),
            bank_reference=doc.get("bank_reference"),
            bank_code=doc.get("bank_code"),
        ),
        imported_at=doc["imported_at"],
        status=doc["status"],
        allocations=[
            Allocation(**{**a, "amount": Decimal(str(a["amount"]))})
            for a in doc.get("allocations") or []
        ],
        matched_by=doc.get("matched_by"),
        payout_id=doc.get("payout_id"),
        note=doc.get("note"),
        decided_at=doc.get("decided_at"),
        reason=doc.get("reason"),
    )


# ------------------------------------------------------------------ candidates


def candidate_filter(
    lines: Iterable[StatementLine], payer_emails: Iterable[str]
) -> Document | None:
    """The receivables any of ``lines`` may pay (one query for a page of bookings)."""
    wanted: list[Document] = []
    for line in lines:
        for ref in references_in(line.match_text):
            # the stored number's own prefix is whatever the range's setting was
            pattern = f"^[^0-9]*{ref.key[:4]}-{ref.key[4:]}$"
            wanted.append({"_id": {"$regex": pattern}})
            wanted.append({"order_number": {"$regex": pattern}})
        if line.direction != "credit":
            continue
        wanted.append({"settled": False, "currency": line.currency, "open_amount": line.amount})
        if line.counterparty_name:
            name = re.escape(" ".join(line.counterparty_name.split()))
            wanted.append(
                {"settled": False, "customer_name": {"$regex": f"^{name}$", "$options": "i"}}
            )
    emails = sorted(set(payer_emails))
    if emails:
        wanted.append({"settled": False, "customer_email": {"$in": emails}})
    return {"$or": wanted} if wanted else None


async def find_candidates(
    db: AsyncDatabase[Document],
    lines: Iterable[StatementLine],
    payer_emails: Iterable[str],
    session: Any = None,
) -> list[OpenItem]:
    query = candidate_filter(lines, payer_emails)
    if query is None:
        return []
    docs = await db[RECEIVABLES].find(query, session=session).limit(MAX_CANDIDATES).to_list(None)
    return [OpenItem.of(receivable_of(d)) for d in docs]


async def emails_paid_from(
    db: AsyncDatabase[Document], ibans: Iterable[str], session: Any = None
) -> dict[str, frozenset[str]]:
    """Per IBAN, the customers whose invoices it paid (matched bookings)."""
    wanted = sorted(set(ibans))
    if not wanted:
        return {}
    docs = (
        await db[BANK_TRANSACTIONS]
        .find(
            {"counterparty_iban": {"$in": wanted}, "status": "matched"},
            {"counterparty_iban": 1, "allocations.customer_email": 1},
            session=session,
        )
        .limit(500)
        .to_list(None)
    )
    found: dict[str, set[str]] = {}
    for doc in docs:
        emails = {a.get("customer_email") for a in doc.get("allocations") or []}
        found.setdefault(doc["counterparty_iban"], set()).update(e for e in emails if e)
    return {iban: frozenset(emails) for iban, emails in found.items()}


# ------------------------------------------------------------------ repositories


class MongoBankStatementRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def get(self, statement_id: str) -> BankStatement | None:
        doc = await self.tx.db[BANK_STATEMENTS].find_one(
            {"_id": statement_id}, session=self.tx.session
        )
        return None if doc is None else statement_of(doc)

    async def add(self, statement: BankStatement) -> None:
        await self.tx.db[BANK_STATEMENTS].insert_one(
            statement_document(statement), session=self.tx.session
        )

    async def account(self, iban: str) -> BankAccount | None:
        doc = await self.tx.db[BANK_ACCOUNTS].find_one({"_id": iban}, session=self.tx.session)
        return None if doc is None else account_of(doc)

    async def save_account(self, account: BankAccount) -> None:
        await self.tx.db[BANK_ACCOUNTS].replace_one(
            {"_id": account.iban}, account_document(account), upsert=True, session=self.tx.session
        )


class MongoBankTransactionRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def get(self, transaction_id: str) -> BankTransaction | None:
        doc = await self.tx.db[BANK_TRANSACTIONS].find_one(
            {"_id": transaction_id}, session=self.tx.session
        )
        return None if doc is None else transaction_of(doc)

    async def known(self, transaction_ids: list[str]) -> dict[str, str]:
        if not transaction_ids:
            return {}
        docs = (
            await self.tx.db[BANK_TRANSACTIONS]
            .find({"_id": {"$in": transaction_ids}}, {"status": 1}, session=self.tx.session)
            .to_list(None)
        )
        return {d["_id"]: d["status"] for d in docs}

    async def add(self, transaction: BankTransaction) -> None:
        await self.tx.db[BANK_TRANSACTIONS].insert_one(
            transaction_document(transaction), session=self.tx.session
        )

    async def save(self, transaction: BankTransaction) -> None:
        await self.tx.db[BANK_TRANSACTIONS].replace_one(
            {"_id": transaction.id}, transaction_document(transaction), session=self.tx.session
        )

    async def customers_paying_from(self, iban: str) -> frozenset[str]:
        found = await emails_paid_from(self.tx.db, [iban], session=self.tx.session)
        return found.get(iban, frozenset())


class MongoOpenItemFinder:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def candidates(
        self, lines: list[StatementLine], payer_emails: frozenset[str]
    ) -> list[OpenItem]:
        return await find_candidates(self.tx.db, lines, payer_emails, session=self.tx.session)


class MongoStatementFiles:
    """The uploaded files in GridFS, ``_id`` their SHA-256: stored once, never replaced."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.bucket = AsyncGridFSBucket(db, bucket_name=FILES_BUCKET)

    async def put_once(self, file_id: str, data: bytes, filename: str | None) -> None:
        with contextlib.suppress(FileExists, DuplicateKeyError):  # the same bytes are there
            await self.bucket.upload_from_stream_with_id(
                file_id, filename or f"{file_id}.statement", data, metadata={"sha256": file_id}
            )
