"""Incoming invoices in MongoDB: collection ``incoming_invoices``, files in GridFS.

One document per received file (``_id`` the record's id, unique ``sha256``). The layout
is a contract with the payouts (branch ``s3-payouts``), which pays approved ones:
``status``, ``supplier.name``, ``supplier.iban``, ``number``, ``currency``, ``amount_due``
(Decimal128), ``due_date`` (ISO date string), ``skonto.percent`` / ``skonto.until``
and ``approved_account`` stay where they are. Dates are ISO strings (``2026-12-20``),
moments BSON dates, amounts Decimal128. The file itself is in the GridFS bucket
``incoming_invoice_files`` with its sha256 in the metadata, never replaced.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any

from kontor_servicekit.store import Transaction

from kontor_billing.domain.incoming import (
    Address,
    DuplicateHint,
    Finding,
    IncomingInvoice,
    InvoiceFields,
    Line,
    Skonto,
    Supplier,
    ValidationReport,
    VatRow,
)

INCOMING = "incoming_invoices"
INCOMING_FILES = "incoming_invoice_files"

Document = dict[str, Any]


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def fields_document(f: InvoiceFields) -> Document:
    return {
        "type_code": f.type_code,
        "number": f.number,
        "issue_date": _iso(f.issue_date),
        "due_date": _iso(f.due_date),
        "delivery_date": _iso(f.delivery_date),
        "currency": f.currency,
        "supplier": asdict(f.supplier),
        "supplier_key": f.supplier.key,
        "buyer_name": f.buyer_name,
        "buyer_reference": f.buyer_reference,
        "order_reference": f.order_reference,
        "net_total": f.net_total,
        "vat_total": f.vat_total,
        "gross_total": f.gross_total,
        "prepaid": f.prepaid,
        "amount_due": f.amount_due,
        "vat_breakdown": [asdict(row) for row in f.vat_breakdown],
        "payment_terms": f.payment_terms,
        "skonto": None
        if f.skonto is None
        else {
            "percent": f.skonto.percent,
            "days": f.skonto.days,
            "until": _iso(f.skonto.until),
            "basis": f.skonto.basis,
        },
        "lines": [asdict(line) for line in f.lines],
        "specification": f.specification,
    }


def fields_of(doc: Document) -> InvoiceFields:
    supplier = dict(doc.get("supplier") or {})
    skonto = doc.get("skonto")
    return InvoiceFields(
        type_code=doc.get("type_code"),
        number=doc.get("number"),
        issue_date=_day(doc.get("issue_date")),
        due_date=_day(doc.get("due_date")),
        delivery_date=_day(doc.get("delivery_date")),
        currency=doc.get("currency"),
        supplier=Supplier(**{**supplier, "address": Address(**(supplier.get("address") or {}))}),
        buyer_name=doc.get("buyer_name"),
        buyer_reference=doc.get("buyer_reference"),
        order_reference=doc.get("order_reference"),
        net_total=_decimal(doc.get("net_total")),
        vat_total=_decimal(doc.get("vat_total")),
        gross_total=_decimal(doc.get("gross_total")),
        prepaid=_decimal(doc.get("prepaid")),
        amount_due=_decimal(doc.get("amount_due")),
        vat_breakdown=tuple(
            VatRow(
                category=row.get("category"),
                rate=_decimal(row.get("rate")),
                basis=_decimal(row.get("basis")),
                vat=_decimal(row.get("vat")),
            )
            for row in doc.get("vat_breakdown") or []
        ),
        payment_terms=doc.get("payment_terms"),
        skonto=None
        if skonto is None
        else Skonto(
            percent=Decimal(str(skonto["percent"])),
            days=skonto.get("days"),
            until=_day(skonto.get("until")),
            basis=_decimal(skonto.get("basis")),
        ),
        lines=tuple(
            Line(
                **{
                    **line,
                    **{k: _decimal(line.get(k)) for k in ("quantity", "unit_price", "net")},
                    "vat_rate": _decimal(line.get("vat_rate")),
                }
            )
            for line in doc.get("lines") or []
        ),
        specification=doc.get("specification"),
    )


def _findings(rows: list[Document]) -> tuple[Finding, ...]:
    return tuple(Finding(**row) for row in rows)


def to_document(invoice: IncomingInvoice) -> Document:
    report = invoice.report
    return {
        "_id": invoice.id,
        "sha256": invoice.sha256,
        "file_id": invoice.file_id,
        "filename": invoice.filename,
        "media_type": invoice.media_type,
        "size": invoice.size,
        "format": invoice.format,
        "status": invoice.status,
        **fields_document(invoice.fields),
        "validation": {
            "outcome": report.outcome,
            "rule_sets": list(report.rule_sets),
            "errors": [asdict(f) for f in report.errors],
            "warnings": [asdict(f) for f in report.warnings],
            "not_checked": list(report.not_checked),
        },
        "duplicates": [asdict(h) for h in invoice.duplicates],
        "duplicate_suspected": invoice.duplicate_suspected,
        "received_at": invoice.received_at,
        "received_by": invoice.received_by,
        "approved_account": invoice.approved_account,
        "approved_by": invoice.approved_by,
        "approved_at": invoice.approved_at,
        "rejected_reason": invoice.rejected_reason,
        "rejected_by": invoice.rejected_by,
        "rejected_at": invoice.rejected_at,
        "paid_at": invoice.paid_at,
    }


def from_document(doc: Document) -> IncomingInvoice:
    report = doc["validation"]
    return IncomingInvoice(
        id=doc["_id"],
        sha256=doc["sha256"],
        file_id=doc["file_id"],
        filename=doc["filename"],
        media_type=doc["media_type"],
        size=doc["size"],
        format=doc["format"],
        fields=fields_of(doc),
        report=ValidationReport(
            outcome=report["outcome"],
            rule_sets=tuple(report["rule_sets"]),
            errors=_findings(report["errors"]),
            warnings=_findings(report["warnings"]),
            not_checked=tuple(report["not_checked"]),
        ),
        status=doc["status"],
        received_at=doc["received_at"],
        received_by=doc.get("received_by"),
        duplicates=tuple(DuplicateHint(**h) for h in doc.get("duplicates") or []),
        approved_account=doc.get("approved_account"),
        approved_by=doc.get("approved_by"),
        approved_at=doc.get("approved_at"),
        rejected_reason=doc.get("rejected_reason"),
        rejected_by=doc.get("rejected_by"),
        rejected_at=doc.get("rejected_at"),
        paid_at=doc.get("paid_at"),
    )


class MongoIncomingInvoiceRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.collection = tx.db[INCOMING]

    async def _one(self, query: Document) -> IncomingInvoice | None:
        doc = await self.collection.find_one(query, session=self.tx.session)
        return None if doc is None else from_document(doc)

    async def get(self, invoice_id: str) -> IncomingInvoice | None:
        return await self._one({"_id": invoice_id})

    async def by_sha256(self, sha256: str) -> IncomingInvoice | None:
        return await self._one({"sha256": sha256})

    async def of_supplier(self, supplier_key: str) -> list[IncomingInvoice]:
        docs = self.collection.find({"supplier_key": supplier_key}, session=self.tx.session)
        return [from_document(doc) async for doc in docs.limit(1000)]

    async def add(self, invoice: IncomingInvoice) -> None:
        await self.collection.insert_one(to_document(invoice), session=self.tx.session)

    async def save(self, invoice: IncomingInvoice) -> None:
        await self.collection.replace_one(
            {"_id": invoice.id}, to_document(invoice), session=self.tx.session
        )
