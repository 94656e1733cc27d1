"""Billing's read side: what the routes show, answered straight from the database.

Statuses are derived, never stored (see ``application/views.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from kontor_billing.application.views import (
    ChainReport,
    DocumentStatus,
    InvoiceFilter,
    InvoicePage,
    InvoiceView,
    Reference,
    Status,
)
from kontor_billing.domain.audit import first_broken
from kontor_billing.domain.seller import Seller
from kontor_billing.store.canonical import document_sha256
from kontor_billing.store.documents import BUCKET, FAILURES
from kontor_billing.store.invoices import INVOICES, from_document, seller_of
from kontor_billing.store.ledger import AUDIT, CURRENT_SELLER, ORDERS, SELLER, audit_entry_of

Document = dict[str, Any]


class InvoiceQueries:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def _with_status(self, docs: list[Document]) -> list[InvoiceView]:
        numbers = [d["number"] for d in docs if d.get("kind", "invoice") == "invoice"]
        referring: dict[str, list[Document]] = defaultdict(list)
        if numbers:
            async for ref in (
                self.db[INVOICES]
                .find(
                    {"original_number": {"$in": numbers}},
                    {"number": 1, "kind": 1, "original_number": 1, "issue_date": 1},
                )
                .sort("number", 1)
            ):
                referring[ref["original_number"]].append(ref)
        documents = await self._document_states([d["number"] for d in docs])
        out = []
        for doc in docs:
            refs = referring.get(doc["number"], [])
            kinds = {r["kind"] for r in refs}
            status: Status = (
                "cancelled"
                if "cancellation" in kinds
                else "corrected"
                if "correction" in kinds
                else "issued"
            )
            out.append(
                InvoiceView(
                    invoice=from_document(doc),
                    status=status,
                    references=[Reference(r["number"], r["kind"], r["issue_date"]) for r in refs],
                    document_status=documents.get(doc["number"], ("pending", ()))[0],
                    rule_ids=documents.get(doc["number"], ("pending", ()))[1],
                )
            )
        return out

    async def _document_states(
        self, numbers: list[str]
    ) -> dict[str, tuple[DocumentStatus, tuple[str, ...]]]:
        """Rendered (its PDF is stored) or failed (with the rule ids), in two round trips."""
        states: dict[str, tuple[DocumentStatus, tuple[str, ...]]] = {}
        if not numbers:
            return states
        async for failure in self.db[FAILURES].find({"_id": {"$in": numbers}}):
            states[failure["_id"]] = ("failed", tuple(failure["rule_ids"]))
        pdfs = [f"{n}.pdf" for n in numbers]
        async for stored in self.db[f"{BUCKET}.files"].find({"_id": {"$in": pdfs}}, {"_id": 1}):
            states[stored["_id"].removesuffix(".pdf")] = ("rendered", ())
        return states

    async def of_order(self, order_id: str) -> list[InvoiceView]:
        """The invoices of an order, by number."""
        docs = await self.db[INVOICES].find({"order_id": order_id}).sort("number", 1).to_list(100)
        return await self._with_status(docs)

    async def page(self, wanted: InvoiceFilter, *, page: int, page_size: int) -> InvoicePage:
        query: Document = {"kind": wanted.kind}
        if wanted.order_id:
            query["order_id"] = wanted.order_id
        if wanted.customer_email:
            query["customer_email"] = wanted.customer_email.strip().lower()
        if wanted.issued_after:
            query["issued_at"] = {"$gt": wanted.issued_after}
        dates: Document = {}
        if wanted.issued_from:
            dates["$gte"] = wanted.issued_from.isoformat()
        if wanted.issued_to:
            dates["$lte"] = wanted.issued_to.isoformat()
        if dates:
            query["issue_date"] = dates
        if wanted.statuses and wanted.kind == "invoice":
            query["number"] = await self._numbers_with(wanted.statuses)
        docs = (
            await self.db[INVOICES]
            .find(query)
            .sort("number", -1)
            .skip((page - 1) * page_size)
            .limit(page_size)
            .to_list(page_size)
        )
        # a first page that is not full is everything: no count (the common
        # ``?order_id=`` read, polled by clients waiting for their invoice)
        short = page == 1 and len(docs) < page_size
        total = len(docs) if short else await self.db[INVOICES].count_documents(query)
        return InvoicePage(items=await self._with_status(docs), total=total)

    async def _numbers_with(self, statuses: Sequence[Status]) -> Document:
        cancelled = set(
            await self.db[INVOICES].distinct("original_number", {"kind": "cancellation"})
        )
        corrected = (
            set(await self.db[INVOICES].distinct("original_number", {"kind": "correction"}))
            - cancelled
        )
        wanted = set(statuses)
        if "issued" in wanted:
            excluded = (cancelled if "cancelled" not in wanted else set()) | (
                corrected if "corrected" not in wanted else set()
            )
            return {"$nin": sorted(excluded)}
        included = (cancelled if "cancelled" in wanted else set()) | (
            corrected if "corrected" in wanted else set()
        )
        return {"$in": sorted(included)}

    async def by_number(self, number: str, kind: str | None = None) -> InvoiceView | None:
        query: Document = {"number": number}
        if kind is not None:
            query["kind"] = kind
        doc = await self.db[INVOICES].find_one(query)
        if doc is None:
            return None
        [with_status] = await self._with_status([doc])
        return with_status

    async def credit_notes(self, order_id: str) -> list[InvoiceView]:
        docs = (
            await self.db[INVOICES]
            .find({"order_id": order_id, "kind": "correction"})
            .sort("number", 1)
            .to_list(1000)
        )
        return await self._with_status(docs)

    async def verify_audit(self) -> list[ChainReport]:
        """Walk every chain; each names its first broken link (or none)."""
        reports = []
        for chain in sorted(await self.db[AUDIT].distinct("chain")):
            entries = [
                audit_entry_of(d)
                async for d in self.db[AUDIT].find({"chain": chain}).sort("seq", 1)
            ]
            numbers = sorted({e.number for e in entries})
            current: dict[str, str | None] = dict.fromkeys(numbers)
            async for doc in self.db[INVOICES].find({"number": {"$in": numbers}}):
                current[doc["number"]] = document_sha256(doc)
            reports.append(ChainReport(chain, len(entries), first_broken(entries, current)))
        return reports


class SellerQueries:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def current(self) -> Seller | None:
        doc = await self.db[SELLER].find_one({"_id": CURRENT_SELLER})
        return None if doc is None else seller_of(doc)

    async def waiting_invoices(self) -> int:
        return await self.db[ORDERS].count_documents({"waiting": {"$ne": None}})
