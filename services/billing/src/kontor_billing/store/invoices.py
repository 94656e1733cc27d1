"""Invoices in billing's own database. Issued invoices are never changed (GoBD)."""

from __future__ import annotations

from typing import Any

from kontor_servicekit.store import Transaction

from kontor_billing.domain.invoice import Invoice

INVOICES = "invoices"


def to_document(invoice: Invoice) -> dict[str, Any]:
    return {
        "_id": invoice.id,
        "number": invoice.number,
        "kind": "invoice",
        "order_id": invoice.order_id,
        "order_number": invoice.order_number,
        "buyer": vars(invoice.buyer),
        "buyer_vat_id": invoice.buyer_vat_id,
        "currency": invoice.currency,
        "issued_at": invoice.issued_at,
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "lines": [{**vars(line), "gross": line.gross} for line in invoice.lines],
        "vat_breakdown": [
            {"vat_rate": r.vat_rate, "net": r.net, "vat": r.vat, "gross": r.gross}
            for r in invoice.vat_breakdown
        ],
        "net_total": invoice.net_total,
        "vat_total": invoice.vat_total,
        "gross_total": invoice.gross_total,
    }


class MongoInvoiceRepository:
    """``InvoiceRepository`` inside one Mongo transaction."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def for_order_exists(self, order_id: str) -> bool:
        doc = await self.tx.db[INVOICES].find_one(
            {"order_id": order_id, "kind": "invoice"}, {"_id": 1}, session=self.tx.session
        )
        return doc is not None

    async def add(self, invoice: Invoice) -> None:
        await self.tx.db[INVOICES].insert_one(to_document(invoice), session=self.tx.session)
