"""The documents of an issued invoice: rendered once, on first request, then served as stored.

Off the order's critical path: nothing here runs in the invoicing transaction. The first
``GET .../pdf`` or ``.../xml`` builds both files, validates them and keeps them in GridFS
keyed by number and kind; every later request (and a racing first one) gets the same bytes.
A document that fails validation is not stored, the request answers 409 with the rule ids and
they are kept for the invoice's ``document_status``. Since ADR 0025 a document is checked
before its number is taken, so this is left for documents issued before that check.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from kontor_servicekit.domain_errors import Conflict, NotFound

from kontor_billing.documents.errors import DocumentInvalid
from kontor_billing.documents.from_invoice import document_of
from kontor_billing.documents.model import Seller
from kontor_billing.domain.invoice import Invoice, Kind

if TYPE_CHECKING:
    from kontor_billing.documents.issue import Rendered

Format = Literal["pdf", "xml"]
MEDIA_TYPES: dict[Format, str] = {"pdf": "application/pdf", "xml": "application/xml"}


@dataclass(frozen=True)
class StoredFile:
    data: bytes
    media_type: str
    filename: str


class DocumentFiles(Protocol):
    async def invoice(self, number: str) -> Invoice | None:
        """The issued invoice with this number."""
        ...

    async def buyer_reference(self, number: str) -> str | None:
        """The buyer's Leitweg-ID of the invoice's order, if it has one."""
        ...

    async def get(self, number: str, fmt: Format) -> bytes | None:
        """The stored file, if it was rendered already."""
        ...

    async def put_once(self, number: str, fmt: Format, data: bytes) -> bytes:
        """Store the file unless one is stored already; returns the stored bytes."""
        ...

    async def record_failure(self, number: str, rule_ids: list[str] | None) -> None:
        """Keep why the documents of ``number`` were refused (None: they no longer are),
        for ``GET /invoices/{number}`` (``document_status``, ``rule_ids``)."""
        ...


Render = Callable[[Invoice, Seller, str | None], "Rendered"]


def render(invoice: Invoice, seller: Seller, buyer_reference: str | None) -> Rendered:
    # imported here: weasyprint and factur-x take seconds to load, not at service start
    from kontor_billing.documents.issue import issue_documents

    return issue_documents(document_of(invoice, seller, buyer_reference=buyer_reference))


class InvoiceDocuments:
    def __init__(
        self, files: DocumentFiles, seller: Callable[[], Seller], renderer: Render = render
    ) -> None:
        self.files = files
        self.seller = seller
        self.renderer = renderer

    async def file(self, number: str, fmt: Format, kind: Kind | None = None) -> StoredFile:
        """The stored file of document ``number`` (of any kind, or only of ``kind``)."""
        invoice = None
        if kind is not None:
            invoice = await self.files.invoice(number)
            if invoice is None or invoice.kind != kind:
                raise NotFound("credit note" if kind == "correction" else kind, number)
        data = await self.files.get(number, fmt)
        if data is None:
            data = await self._render(number, fmt, invoice)
        return StoredFile(data, MEDIA_TYPES[fmt], f"{number}.{fmt}")

    async def _render(self, number: str, fmt: Format, invoice: Invoice | None) -> bytes:
        invoice = invoice or await self.files.invoice(number)
        if invoice is None:
            raise NotFound("invoice", number)
        reference = await self.files.buyer_reference(number)
        try:
            rendered = await asyncio.to_thread(self.renderer, invoice, self.seller(), reference)
        except DocumentInvalid as exc:
            await self.files.record_failure(number, exc.rule_ids)
            raise Conflict(
                f"the documents of {number} break e-invoice rules and are not issued: "
                + ", ".join(exc.rule_ids),
                details={"rule_ids": exc.rule_ids},
            ) from None
        # the XML first: a PDF is never stored without the XML it embeds
        xml = await self.files.put_once(number, "xml", rendered.xml)
        pdf = await self.files.put_once(number, "pdf", rendered.pdf)
        await self.files.record_failure(number, None)
        return xml if fmt == "xml" else pdf
