"""Rendered invoice documents in GridFS, one file per number and format, never replaced.

The file's ``_id`` is ``"<number>.<format>"``: GridFS's unique ``files_id``/``n`` index
on the chunks refuses a second upload under the same id (``FileExists``), so two racing
first requests store one file and both serve it. GridFS is not transactional; the loser's
chunk is refused before its files document is written, so it leaves nothing behind.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from bson.decimal128 import Decimal128
from gridfs import AsyncGridFSBucket, NoFile
from gridfs.errors import FileExists
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kontor_billing.application.documents import Format
from kontor_billing.domain.invoice import Invoice, InvoiceLine, Party, VatRow
from kontor_billing.store.invoices import INVOICES

BUCKET = "invoice_documents"


def _decimal(value: Any) -> Decimal:
    return value.to_decimal() if isinstance(value, Decimal128) else Decimal(str(value))


def invoice_from_document(doc: dict[str, Any]) -> Invoice:
    lines = [
        InvoiceLine(
            line_no=line["line_no"],
            sku=line.get("sku"),
            description=line["description"],
            quantity=line["quantity"],
            unit_price_net=_decimal(line["unit_price_net"]),
            vat_rate=_decimal(line["vat_rate"]),
            net=_decimal(line["net"]),
            vat=_decimal(line["vat"]),
        )
        for line in doc["lines"]
    ]
    buyer = doc["buyer"]
    return Invoice(
        id=doc["_id"],
        number=doc["number"],
        order_id=doc["order_id"],
        order_number=doc.get("order_number"),
        buyer=Party(**{k: buyer.get(k) for k in Party.__dataclass_fields__}),
        currency=doc["currency"],
        lines=lines,
        issued_at=doc["issued_at"],
        buyer_vat_id=doc.get("buyer_vat_id"),
        vat_breakdown=[
            VatRow(_decimal(r["vat_rate"]), _decimal(r["net"]), _decimal(r["vat"]))
            for r in doc["vat_breakdown"]
        ],
    )


class MongoDocumentFiles:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.db = db
        self.bucket = AsyncGridFSBucket(db, bucket_name=BUCKET)

    async def _doc(self, number: str) -> dict[str, Any] | None:
        return await self.db[INVOICES].find_one({"number": number, "kind": "invoice"})

    async def invoice(self, number: str) -> Invoice | None:
        doc = await self._doc(number)
        return None if doc is None else invoice_from_document(doc)

    async def buyer_reference(self, number: str) -> str | None:
        doc = await self._doc(number)
        return None if doc is None else doc.get("buyer_reference")

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
