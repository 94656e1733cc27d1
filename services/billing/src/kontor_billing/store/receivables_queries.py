"""The read side of the receivables ledger: open items, a receivable by invoice or
order, the payments of an invoice or order (each page in two round trips)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from kontor_servicekit.store import find_page
from pymongo.asynchronous.database import AsyncDatabase

from kontor_billing.domain.dunning import DunningNotice
from kontor_billing.domain.receivables import Payment, Receivable, ReceivableStatus
from kontor_billing.store.dunning import DUNNING_NOTICES, notice_of
from kontor_billing.store.receivables import PAYMENTS, RECEIVABLES, payment_of, receivable_of

Document = dict[str, Any]

#: The statuses with money still owed (the open items, OPOS).
UNSETTLED: tuple[ReceivableStatus, ...] = ("open", "partially_paid")


@dataclass(frozen=True)
class ReceivablePage:
    items: list[Receivable]
    total: int


@dataclass(frozen=True)
class PaymentPage:
    items: list[Payment]
    total: int


class ReceivableQueries:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def page(
        self,
        statuses: Sequence[ReceivableStatus] = (),
        *,
        overdue_on: date | None = None,
        customer_email: str | None = None,
        opened_after: datetime | None = None,
        page: int = 1,
        page_size: int = 50,
    ) -> ReceivablePage:
        """Receivables by due date (oldest first); ``overdue_on``: only those past due
        and unsettled on that day; ``opened_after``: only those opened after that moment
        (a search for an erased buyer, ADR 0075)."""
        query: Document = {}
        if statuses:
            query["status"] = {"$in": list(statuses)}
        if overdue_on is not None:
            query["settled"] = False
            query["due_date"] = {"$lt": overdue_on.isoformat()}
        if customer_email:
            query["customer_email"] = customer_email.strip().lower()
        if opened_after is not None:
            query["opened_at"] = {"$gt": opened_after}
        docs, total = await find_page(
            self.db[RECEIVABLES],
            query,
            [("due_date", 1), ("_id", 1)],
            page=page,
            page_size=page_size,
        )
        return ReceivablePage(items=[receivable_of(d) for d in docs], total=total)

    async def open_items(self, *, page: int = 1, page_size: int = 50) -> ReceivablePage:
        """Every receivable with money still owed."""
        return await self.page(UNSETTLED, page=page, page_size=page_size)

    async def by_invoice(self, invoice_number: str) -> Receivable | None:
        doc = await self.db[RECEIVABLES].find_one({"_id": invoice_number})
        return None if doc is None else receivable_of(doc)

    async def by_order(self, order_id: str) -> Receivable | None:
        doc = await self.db[RECEIVABLES].find_one({"order_id": order_id})
        return None if doc is None else receivable_of(doc)

    async def payments(
        self,
        *,
        invoice_number: str | None = None,
        order_id: str | None = None,
        held: bool = False,
        page: int = 1,
        page_size: int = 50,
    ) -> PaymentPage:
        """Payments and refunds, oldest first; of an invoice and/or an order if given;
        ``held``: only those held for an order billing does not know (ADR 0148)."""
        query: Document = {}
        if invoice_number:
            query["invoice_number"] = invoice_number
        if order_id:
            query["order_id"] = order_id
        if held:
            query["held"] = {"$type": "string"}
        docs, total = await find_page(
            self.db[PAYMENTS],
            query,
            [("received_at", 1), ("booked_at", 1), ("_id", 1)],
            page=page,
            page_size=page_size,
        )
        return PaymentPage(items=[payment_of(d) for d in docs], total=total)

    async def payments_of_invoice(self, invoice_number: str) -> list[Payment]:
        docs = (
            await self.db[PAYMENTS]
            .find({"invoice_number": invoice_number})
            .sort([("received_at", 1), ("booked_at", 1)])
            .to_list(None)
        )
        return [payment_of(d) for d in docs]

    async def payment(self, payment_id: str) -> Payment | None:
        doc = await self.db[PAYMENTS].find_one({"_id": payment_id})
        return None if doc is None else payment_of(doc)


@dataclass(frozen=True)
class NoticePage:
    items: list[DunningNotice]
    total: int


class DunningQueries:
    """The reminders and dunning notices (``GET /dunning``)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def page(
        self, *, invoice_number: str | None = None, page: int = 1, page_size: int = 50
    ) -> NoticePage:
        query: Document = {"invoice_number": invoice_number} if invoice_number else {}
        docs, total = await find_page(
            self.db[DUNNING_NOTICES],
            query,
            [("issued_at", 1), ("_id", 1)],
            page=page,
            page_size=page_size,
        )
        return NoticePage(items=[notice_of(d) for d in docs], total=total)

    async def by_number(self, number: str) -> DunningNotice | None:
        doc = await self.db[DUNNING_NOTICES].find_one({"_id": number})
        return None if doc is None else notice_of(doc)
