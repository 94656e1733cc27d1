"""The read side of bank statements: the accounts' balances, the imported files, the
bookings with ranked suggestions for those that wait (a page in four round trips: count,
page, the payers' earlier payments, the candidates of the whole page)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gridfs import AsyncGridFSBucket, NoFile
from kontor_servicekit.store import find_page
from pymongo.asynchronous.database import AsyncDatabase

from kontor_billing.application.bank_statements import TransactionView
from kontor_billing.domain.bank_statements import (
    BankAccount,
    BankStatement,
    BankTransaction,
    Direction,
    TransactionStatus,
)
from kontor_billing.domain.reconciliation import Suggestion, suggestions
from kontor_billing.store.bank_statements import (
    BANK_ACCOUNTS,
    BANK_STATEMENTS,
    BANK_TRANSACTIONS,
    FILES_BUCKET,
    account_of,
    emails_paid_from,
    find_candidates,
    statement_of,
    transaction_of,
)

Document = dict[str, Any]


@dataclass(frozen=True)
class TransactionPage:
    items: list[TransactionView]
    total: int


@dataclass(frozen=True)
class StatementPage:
    items: list[BankStatement]
    total: int


@dataclass(frozen=True)
class StatementFile:
    data: bytes
    filename: str


class BankQueries:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db
        self.files = AsyncGridFSBucket(db, bucket_name=FILES_BUCKET)

    async def accounts(self) -> list[BankAccount]:
        docs = await self.db[BANK_ACCOUNTS].find({}).sort("_id", 1).to_list(None)
        return [account_of(d) for d in docs]

    async def statements(self, *, page: int, page_size: int) -> StatementPage:
        docs, total = await find_page(
            self.db[BANK_STATEMENTS],
            {},
            [("imported_at", -1), ("_id", 1)],
            page=page,
            page_size=page_size,
        )
        return StatementPage([statement_of(d) for d in docs], total)

    async def statement_file(self, statement_id: str) -> StatementFile | None:
        doc = await self.db[BANK_STATEMENTS].find_one({"_id": statement_id})
        if doc is None:
            return None
        try:
            stream = await self.files.open_download_stream(statement_id)
        except NoFile:
            return None
        data: bytes = await stream.read()
        return StatementFile(data, doc.get("filename") or f"{statement_id}.statement")

    async def _with_suggestions(self, found: list[BankTransaction]) -> list[TransactionView]:
        waiting = [t for t in found if t.open and t.direction == "credit"]
        ibans = [t.line.counterparty_iban for t in waiting if t.line.counterparty_iban]
        paid_from = await emails_paid_from(self.db, ibans)
        every_email = {e for emails in paid_from.values() for e in emails}
        items = await find_candidates(self.db, [t.line for t in waiting], every_email)
        views = []
        for t in found:
            ranked: tuple[Suggestion, ...] = ()
            if t in waiting:
                emails = paid_from.get(t.line.counterparty_iban or "", frozenset())
                ranked = suggestions(t.line, items, emails)
            views.append(TransactionView(t, ranked))
        return views

    async def transactions(
        self,
        *,
        statuses: tuple[TransactionStatus, ...],
        direction: Direction | None,
        page: int,
        page_size: int,
    ) -> TransactionPage:
        query: Document = {}
        if statuses:
            query["status"] = {"$in": list(statuses)}
        if direction is not None:
            query["direction"] = direction
        docs, total = await find_page(
            self.db[BANK_TRANSACTIONS],
            query,
            [("booking_date", -1), ("_id", 1)],
            page=page,
            page_size=page_size,
        )
        return TransactionPage(
            await self._with_suggestions([transaction_of(d) for d in docs]), total
        )

    async def transaction(self, transaction_id: str) -> TransactionView | None:
        doc = await self.db[BANK_TRANSACTIONS].find_one({"_id": transaction_id})
        if doc is None:
            return None
        [view] = await self._with_suggestions([transaction_of(doc)])
        return view
