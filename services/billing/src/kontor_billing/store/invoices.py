"""Documents (invoices, cancellations, corrections) in billing's own database.

Issued documents are never changed or deleted (GoBD): this repository only inserts,
and the audit chain (``audit.py``) proves nothing was changed behind its back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from typing import Any

from kontor_servicekit.domain_errors import Conflict
from kontor_servicekit.store import Transaction
from pymongo.errors import DuplicateKeyError

from kontor_billing.domain.invoice import Invoice, InvoiceLine, VatRow
from kontor_billing.domain.order import Buyer
from kontor_billing.domain.seller import Seller
from kontor_billing.store.canonical import document_sha256

INVOICES = "invoices"
ONE_VALID_INVOICE = "one_valid_invoice_per_order"


def seller_document(seller: Seller) -> dict[str, Any]:
    return {**asdict(seller), "managing_directors": list(seller.managing_directors)}


def seller_of(doc: dict[str, Any]) -> Seller:
    fields = {k: v for k, v in doc.items() if k in Seller.__dataclass_fields__}
    return Seller(**{**fields, "managing_directors": tuple(fields.get("managing_directors", ()))})


def to_document(invoice: Invoice) -> dict[str, Any]:
    return {
        "_id": invoice.id,
        "number": invoice.number,
        "kind": invoice.kind,
        "order_id": invoice.order_id,
        "order_number": invoice.order_number,
        "buyer": asdict(invoice.buyer),
        "customer_email": invoice.buyer.email.lower(),
        "buyer_vat_id": invoice.buyer_vat_id,
        "seller": seller_document(invoice.seller) if invoice.seller else None,
        "currency": invoice.currency,
        "issued_at": invoice.issued_at,
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "supply_date": invoice.supply_date.isoformat() if invoice.supply_date else None,
        "lines": [{**asdict(line), "gross": line.gross} for line in invoice.lines],
        "vat_breakdown": [
            {
                "vat_rate": r.vat_rate,
                "category": r.category,
                "net": r.net,
                "vat": r.vat,
                "gross": r.gross,
            }
            for r in invoice.vat_breakdown
        ],
        "net_total": invoice.net_total,
        "vat_total": invoice.vat_total,
        "gross_total": invoice.gross_total,
        "notes": list(invoice.notes),
        "original_id": invoice.original_id,
        "original_number": invoice.original_number,
        "reason": invoice.reason,
        "return_id": invoice.return_id,
        "destination_country": invoice.destination_country,
        "vat_country": invoice.vat_country,
        "original_issue_date": (
            invoice.original_issue_date.isoformat() if invoice.original_issue_date else None
        ),
        "generation": invoice.generation,
    }


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def from_document(doc: dict[str, Any]) -> Invoice:
    buyer = doc["buyer"]
    return Invoice(
        id=doc["_id"],
        number=doc["number"],
        order_id=doc["order_id"],
        order_number=doc.get("order_number"),
        buyer=Buyer(
            **{
                "vat_id": doc.get("buyer_vat_id"),
                **{k: v for k, v in buyer.items() if k in Buyer.__dataclass_fields__},
            }
        ),
        currency=doc["currency"],
        lines=[
            InvoiceLine(**{k: v for k, v in line.items() if k != "gross"}) for line in doc["lines"]
        ],
        issued_at=doc["issued_at"],
        vat_breakdown=[
            VatRow(
                vat_rate=r["vat_rate"],
                net=r["net"],
                vat=r["vat"],
                category=r.get("category") or ("S" if r["vat_rate"] > 0 else "Z"),
            )
            for r in doc["vat_breakdown"]
        ],
        kind=doc.get("kind", "invoice"),
        seller=seller_of(doc["seller"]) if doc.get("seller") else None,
        supply_date=date.fromisoformat(doc["supply_date"]) if doc.get("supply_date") else None,
        notes=list(doc.get("notes") or []),
        original_id=doc.get("original_id"),
        original_number=doc.get("original_number"),
        reason=doc.get("reason"),
        return_id=doc.get("return_id"),
        destination_country=doc.get("destination_country"),
        vat_country=doc.get("vat_country"),
        original_issue_date=_date(doc.get("original_issue_date")),
        generation=int(doc.get("generation") or 1),
    )


def _of_order(order_id: str) -> str:
    """The memo's key (``Transaction.remember``) for "the order has an invoice": no
    document id is of this form."""
    return f"invoice-of-order:{order_id}"


class MongoInvoiceRepository:
    """``InvoiceRepository`` inside one Mongo transaction: it inserts and reads, nothing else."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    @property
    def _docs(self) -> Any:
        return self.tx.db[INVOICES]

    async def for_order_exists(self, order_id: str) -> bool:
        known, doc = self.tx.recall(INVOICES, _of_order(order_id))
        if not known:
            doc = await self._docs.find_one(
                {"order_id": order_id, "kind": "invoice"}, {"_id": 1}, session=self.tx.session
            )
            self.tx.remember(INVOICES, _of_order(order_id), doc)
        return doc is not None

    async def prefetch_for_orders(self, order_ids: Sequence[str]) -> None:
        """Answer :meth:`for_order_exists` for ``order_ids`` with one query (ADR 0150)."""
        unknown = [
            i for i in dict.fromkeys(order_ids) if not self.tx.recall(INVOICES, _of_order(i))[0]
        ]
        if not unknown:
            return
        invoiced = {
            doc["order_id"]: doc
            async for doc in self._docs.find(
                {"order_id": {"$in": unknown}, "kind": "invoice"},
                {"_id": 1, "order_id": 1},
                session=self.tx.session,
            )
        }
        for order_id in unknown:
            doc = invoiced.get(order_id)
            self.tx.remember(INVOICES, _of_order(order_id), doc and {"_id": doc["_id"]})

    async def add(self, invoice: Invoice) -> str:
        doc = to_document(invoice)
        try:
            await self._docs.insert_one(doc, session=self.tx.session)
        except DuplicateKeyError as exc:
            if invoice.generation > 1 and ONE_VALID_INVOICE in str(exc):
                raise Conflict(f"order {invoice.order_id} was invoiced again already") from None
            raise
        if invoice.kind == "invoice":
            self.tx.remember(INVOICES, _of_order(invoice.order_id), {"_id": doc["_id"]})
        return document_sha256(doc)

    async def by_number(self, number: str) -> Invoice | None:
        doc = await self._docs.find_one({"number": number}, session=self.tx.session)
        return None if doc is None else from_document(doc)

    async def invoice_of(self, order_id: str) -> Invoice | None:
        doc = await self._docs.find_one(
            {"order_id": order_id, "kind": "invoice"},
            sort=[("generation", -1)],  # the latest: the earlier ones are cancelled
            session=self.tx.session,
        )
        return None if doc is None else from_document(doc)

    async def referring_to(self, number: str) -> list[Invoice]:
        docs = (
            await self._docs.find({"original_number": number}, session=self.tx.session)
            .sort("number", 1)
            .to_list(None)
        )
        return [from_document(d) for d in docs]

    async def sha256_of(self, number: str) -> str:
        doc = await self._docs.find_one({"number": number}, session=self.tx.session)
        if doc is None:
            raise LookupError(number)
        return document_sha256(doc)
