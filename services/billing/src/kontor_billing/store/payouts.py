"""Payout items, payment runs (with their pain.001 file), and what payouts read of the
collections other parts of billing own: ``payments`` and ``incoming_invoices``."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from kontor_servicekit.domain_errors import Conflict
from kontor_servicekit.store import Transaction, find_page
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kontor_billing.domain.payouts import (
    PROVIDER_METHODS,
    PaidSummary,
    Payable,
    PaymentRun,
    PayoutItem,
    PayoutKind,
    PayoutRoute,
    PayoutStatus,
    Skonto,
)

PAYOUT_ITEMS = "payout_items"
PAYMENT_RUNS = "payment_runs"
PAYMENTS = "payments"
INCOMING_INVOICES = "incoming_invoices"
BANK_TRANSACTIONS = "bank_transactions"

Document = dict[str, Any]


def item_document(item: PayoutItem) -> Document:
    return {
        "_id": item.id,
        "number": item.number,
        "end_to_end_id": item.end_to_end_id,
        "kind": item.kind,
        "route": item.route,
        "source_id": item.source_id,
        "source_number": item.source_number,
        "amount": item.amount,
        "currency": item.currency,
        "created_at": item.created_at,
        "status": item.status,
        "creditor_name": item.creditor_name,
        "remittance": item.remittance,
        "order_id": item.order_id,
        "iban": item.iban,
        "bic": item.bic,
        "provider_reference": item.provider_reference,
        "provider_refund_id": item.provider_refund_id,
        "discount": item.discount,
        "run_id": item.run_id,
        "failure": item.failure,
        "sent_at": item.sent_at,
        "ledger_payment_id": item.ledger_payment_id,
        "returns": item.returns,
        "settled_at": item.settled_at,
        "history": [{"status": s, "at": at} for s, at in item.history],
    }


def item_of(doc: Document) -> PayoutItem:
    fields = {
        k: v
        for k, v in doc.items()
        if k in PayoutItem.__dataclass_fields__ and k not in ("history", "id")
    }
    return PayoutItem(
        id=doc["_id"], **fields, history=[(h["status"], h["at"]) for h in doc.get("history", [])]
    )


def run_document(run: PaymentRun, file: bytes) -> Document:
    return {
        "_id": run.id,
        "number": run.number,
        "created_at": run.created_at,
        "execution_date": run.execution_date.isoformat(),
        "item_ids": list(run.item_ids),
        "currency": run.currency,
        "control_sum": run.control_sum,
        "debtor_name": run.debtor_name,
        "debtor_iban": run.debtor_iban,
        "debtor_bic": run.debtor_bic,
        "file_name": run.file_name,
        "schema": run.schema,
        "file": file,
    }


def run_of(doc: Document) -> PaymentRun:
    fields = {
        k: v
        for k, v in doc.items()
        if k in PaymentRun.__dataclass_fields__ and k not in ("id", "execution_date")
    }
    return PaymentRun(
        id=doc["_id"], execution_date=date.fromisoformat(doc["execution_date"]), **fields
    )


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def payable_of(doc: Document) -> Payable:
    """An approved incoming invoice as incoming invoices store it (``supplier.name``,
    ``supplier.iban``, ``amount_due``, ``currency``, ``number``, ``due_date``,
    ``skonto`` {``percent``, ``until``})."""
    supplier = doc.get("supplier") or {}
    skonto = doc.get("skonto") or None
    return Payable(
        id=str(doc["_id"]),
        number=str(doc.get("number") or doc["_id"]),
        supplier_name=str(supplier.get("name") or "?"),
        iban=supplier.get("iban"),
        bic=supplier.get("bic"),
        amount_due=Decimal(str(doc["amount_due"])),
        currency=str(doc.get("currency") or "EUR"),
        due_date=_date(doc.get("due_date")),
        skonto=None
        if not skonto or skonto.get("percent") is None or not skonto.get("until")
        else Skonto(Decimal(str(skonto["percent"])), _date(skonto["until"]) or date.min),
    )


def paid_summary(payments: list[Document]) -> PaidSummary | None:
    """What came in on an order (``payments`` with direction ``in``)."""
    incoming = [p for p in payments if p.get("direction", "in") == "in"]
    if not incoming:
        return None
    by_provider = [
        p for p in incoming if p.get("method") in PROVIDER_METHODS and p.get("reference")
    ]
    last = (by_provider or incoming)[-1]
    return PaidSummary(
        paid=sum((Decimal(str(p["amount"])) for p in incoming), Decimal("0")),
        method=last.get("method"),
        provider_reference=last.get("reference") if by_provider else None,
        payer_iban=last.get("payer_iban") or last.get("counterparty_iban"),
        payer_name=last.get("payer_name") or last.get("counterparty_name"),
    )


class MongoPayoutRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    @property
    def _docs(self) -> Any:
        return self.tx.db[PAYOUT_ITEMS]

    async def add(self, item: PayoutItem) -> None:
        try:
            await self._docs.insert_one(item_document(item), session=self.tx.session)
        except DuplicateKeyError as exc:
            raise Conflict(f"{item.kind} payout of {item.source_number} exists already") from exc

    async def save(self, item: PayoutItem) -> None:
        await self._docs.replace_one(
            {"_id": item.id}, item_document(item), upsert=True, session=self.tx.session
        )

    async def by_number(self, number: str) -> PayoutItem | None:
        doc = await self._docs.find_one({"number": number}, session=self.tx.session)
        return None if doc is None else item_of(doc)

    async def of_source(self, kind: PayoutKind, source_id: str) -> PayoutItem | None:
        doc = await self._docs.find_one(
            {"kind": kind, "source_id": source_id}, session=self.tx.session
        )
        return None if doc is None else item_of(doc)

    async def refunded_for_order(self, order_id: str) -> Decimal:
        docs = await self._docs.find(
            {"kind": "refund", "order_id": order_id, "status": {"$ne": "failed"}},
            {"amount": 1},
            session=self.tx.session,
        ).to_list(None)
        return sum((d["amount"] for d in docs), Decimal("0"))

    async def with_status(
        self, status: PayoutStatus, route: PayoutRoute | None = None, limit: int = 1000
    ) -> list[PayoutItem]:
        query: Document = {"status": status}
        if route is not None:
            query["route"] = route
        docs = (
            await self._docs.find(query, session=self.tx.session)
            .sort("number", 1)
            .limit(limit)
            .to_list(None)
        )
        return [item_of(d) for d in docs]


class MongoPaymentRunRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def add(self, run: PaymentRun, file: bytes) -> None:
        await self.tx.db[PAYMENT_RUNS].insert_one(run_document(run, file), session=self.tx.session)

    async def get(self, run_id: str) -> PaymentRun | None:
        doc = await self.tx.db[PAYMENT_RUNS].find_one(
            {"_id": run_id}, {"file": 0}, session=self.tx.session
        )
        return None if doc is None else run_of(doc)

    async def file_of(self, run_id: str) -> bytes | None:
        doc = await self.tx.db[PAYMENT_RUNS].find_one(
            {"_id": run_id}, {"file": 1}, session=self.tx.session
        )
        return None if doc is None else bytes(doc["file"])


class MongoPayableSource:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def approved(self) -> list[Payable]:
        docs = (
            await self.tx.db[INCOMING_INVOICES]
            .find({"status": "approved"}, session=self.tx.session)
            .sort("_id", 1)
            .to_list(None)
        )
        return [payable_of(d) for d in docs]


class MongoOrderPayments:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def paid_of(self, order_id: str) -> PaidSummary | None:
        docs = (
            await self.tx.db[PAYMENTS]
            .find({"order_id": order_id}, session=self.tx.session)
            .sort("received_at", 1)
            .to_list(None)
        )
        summary = paid_summary(docs)
        if summary is None or summary.payer_iban:
            return summary
        # a payment matched from a bank statement: the account it came from
        # (payment id ``bank:<transaction id>:<invoice number>``, ADR 0030)
        for doc in reversed(docs):
            parts = str(doc["_id"]).split(":")
            if doc.get("source") == "bank" and len(parts) == 3:
                tx = await self.tx.db[BANK_TRANSACTIONS].find_one(
                    {"_id": parts[1]}, session=self.tx.session
                )
                if tx and tx.get("counterparty_iban"):
                    return replace(
                        summary,
                        payer_iban=tx["counterparty_iban"],
                        payer_name=tx.get("counterparty_name") or summary.payer_name,
                    )
        return summary


class PayoutQueries:
    """The payout screens' reads."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def items(
        self,
        *,
        status: PayoutStatus | None,
        kind: PayoutKind | None,
        run_id: str | None,
        page: int,
        page_size: int,
    ) -> tuple[list[PayoutItem], int]:
        query: Document = {}
        if status:
            query["status"] = status
        if kind:
            query["kind"] = kind
        if run_id:
            query["run_id"] = run_id
        docs, total = await find_page(
            self.db[PAYOUT_ITEMS], query, [("number", -1)], page=page, page_size=page_size
        )
        return [item_of(d) for d in docs], total

    async def by_end_to_end_id(self, end_to_end_id: str) -> str | None:
        """The bank reconciliation's ``PayoutLookup``: the item a debit pays."""
        doc = await self.db[PAYOUT_ITEMS].find_one({"end_to_end_id": end_to_end_id}, {"_id": 1})
        return None if doc is None else str(doc["_id"])

    async def run(self, run_id: str) -> PaymentRun | None:
        doc = await self.db[PAYMENT_RUNS].find_one({"_id": run_id}, {"file": 0})
        return None if doc is None else run_of(doc)

    async def run_file(self, run_id: str) -> tuple[PaymentRun, bytes] | None:
        doc = await self.db[PAYMENT_RUNS].find_one({"_id": run_id})
        return None if doc is None else (run_of(doc), bytes(doc["file"]))
