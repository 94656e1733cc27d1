"""Rendered documents in memory: the unit tests' GridFS (see ``store/documents.py``)."""

from __future__ import annotations

from kontor_billing.application.documents import Format
from kontor_billing.domain.invoice import Invoice


class InMemoryDocumentFiles:
    def __init__(
        self, invoices: list[Invoice], buyer_references: dict[str, str] | None = None
    ) -> None:
        self.invoices = {invoice.number: invoice for invoice in invoices}
        self.buyer_references = buyer_references or {}
        self.files: dict[tuple[str, Format], bytes] = {}
        self.writes = 0
        self.failures: dict[str, list[str]] = {}

    async def invoice(self, number: str) -> Invoice | None:
        return self.invoices.get(number)

    async def buyer_reference(self, number: str) -> str | None:
        return self.buyer_references.get(number)

    async def get(self, number: str, fmt: Format) -> bytes | None:
        return self.files.get((number, fmt))

    async def put_once(self, number: str, fmt: Format, data: bytes) -> bytes:
        self.writes += 1
        return self.files.setdefault((number, fmt), data)

    async def record_failure(self, number: str, rule_ids: list[str] | None) -> None:
        if rule_ids is None:
            self.failures.pop(number, None)
        else:
            self.failures[number] = rule_ids
