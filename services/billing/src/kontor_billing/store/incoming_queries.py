"""The read side of incoming invoices: one record, a filtered page, the open ones."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from kontor_servicekit.blobs import Blob, BlobStore
from kontor_servicekit.store import find_page
from pymongo.asynchronous.database import AsyncDatabase

from kontor_billing.application.incoming import IncomingFilter
from kontor_billing.domain.incoming import OPEN, DueEntry, IncomingInvoice, due_entries
from kontor_billing.store.incoming import INCOMING, from_document

Document = dict[str, Any]
#: The due list holds at most this many open invoices (sorted in memory by deadline).
MAX_OPEN = 2000


class IncomingQueries:
    def __init__(self, db: AsyncDatabase[Document], files: BlobStore) -> None:
        self.db = db
        self.files = files

    async def get(self, invoice_id: str) -> IncomingInvoice | None:
        doc = await self.db[INCOMING].find_one({"_id": invoice_id})
        return None if doc is None else from_document(doc)

    async def page(
        self, wanted: IncomingFilter, *, page: int, page_size: int
    ) -> tuple[list[IncomingInvoice], int]:
        query: Document = {}
        if wanted.statuses:
            query["status"] = {"$in": list(wanted.statuses)}
        if wanted.supplier:
            text = wanted.supplier.strip()
            query["$or"] = [
                {"supplier.name": {"$regex": re.escape(text), "$options": "i"}},
                {"supplier_key": text.replace(" ", "").upper()},
            ]
        if wanted.due_before:
            query["due_date"] = {"$lt": wanted.due_before.isoformat()}
        docs, total = await find_page(
            self.db[INCOMING],
            query,
            [("received_at", -1), ("_id", 1)],
            page=page,
            page_size=page_size,
        )
        return [from_document(d) for d in docs], total

    async def due(self, today: date) -> list[DueEntry]:
        """The open invoices by their next deadline (the domain's order, ``due_entries``)."""
        docs = self.db[INCOMING].find({"status": {"$in": list(OPEN)}}).limit(MAX_OPEN)
        return due_entries([from_document(d) async for d in docs], today)

    async def file(self, invoice_id: str) -> tuple[IncomingInvoice, Blob] | None:
        invoice = await self.get(invoice_id)
        if invoice is None:
            return None
        blob = await self.files.get(invoice.file_id)
        return None if blob is None else (invoice, blob)
