"""Rendered invoice documents in GridFS, one file per number and format, never replaced.

The file's ``_id`` is ``"<number>.<format>"``: GridFS's unique ``files_id``/``n`` index
on the chunks refuses a second upload under the same id (``FileExists``), so two racing
first requests store one file and both serve it. GridFS is not transactional; the loser's
chunk is refused before its files document is written, so it leaves nothing behind.
"""

from __future__ import annotations

import asyncio
from typing import Any

from gridfs import AsyncGridFSBucket, NoFile
from gridfs.errors import FileExists
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kontor_billing.application.documents import Format
from kontor_billing.domain.invoice import Invoice
from kontor_billing.store.invoices import INVOICES, from_document

BUCKET = "invoice_documents"
FAILURES = "document_failures"
"""Why the documents of a number were refused when last rendered (``_id`` the number)."""


class MongoDocumentFiles:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.db = db
        self.bucket = AsyncGridFSBucket(db, bucket_name=BUCKET)

    async def _doc(self, number: str) -> dict[str, Any] | None:
        return await self.db[INVOICES].find_one({"number": number})

    async def invoice(self, number: str) -> Invoice | None:
        doc = await self._doc(number)
        return None if doc is None else from_document(doc)

    async def buyer_reference(self, number: str) -> str | None:
        doc = await self._doc(number)
        if doc is None:
            return None
        return doc.get("buyer_reference") or (doc.get("buyer") or {}).get("buyer_reference")

    async def get(self, number: str, fmt: Format) -> bytes | None:
        try:
            stream = await self.bucket.open_download_stream(f"{number}.{fmt}")
        except NoFile:
            return None
        data: bytes = await stream.read()
        return data

    async def put_once(self, number: str, fmt: Format, data: bytes) -> bytes:
        file_id = f"{number}.{fmt}"
        try:
            await self.bucket.upload_from_stream_with_id(
                file_id, file_id, data, metadata={"number": number, "format": fmt}
            )
            return data
        except (FileExists, DuplicateKeyError):
            pass  # another request stored it first: serve that one
        for _ in range(50):  # the winner may still be writing its files document
            stored = await self.get(number, fmt)
            if stored is not None:
                return stored
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{file_id} is being written by another request")

    async def record_failure(self, number: str, rule_ids: list[str] | None) -> None:
        if rule_ids is None:
            await self.db[FAILURES].delete_one({"_id": number})
            return
        await self.db[FAILURES].replace_one(
            {"_id": number}, {"_id": number, "rule_ids": rule_ids}, upsert=True
        )
