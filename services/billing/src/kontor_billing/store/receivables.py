"""The receivables ledger and the payments in billing's database.

``receivables``: one document per issued invoice, ``_id`` its number; ``payments``:
one per payment or refund, ``_id`` the payment id (the idempotency key, unique by
construction). Amounts are Decimal128, dates ISO strings (sortable), moments aware.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from kontor_servicekit.store import Transaction

from kontor_billing.domain.receivables import AppliedPayment, Credit, Payment, Receivable

RECEIVABLES = "receivables"
PAYMENTS = "payments"
STRIPE_EVENTS = "stripe_events"


def receivable_document(r: Receivable) -> dict[str, Any]:
    return {
        "_id": r.invoice_number,
        "invoice_number": r.invoice_number,
        "invoice_id": r.invoice_id,
        "order_id": r.order_id,
        "order_number": r.order_number,
        "customer_email": r.customer_email.lower(),
        "customer_name": r.customer_name,
        "company": r.company,
        "currency": r.currency,
        "gross_total": r.gross_total,
        "issue_date": r.issue_date.isoformat(),
        "due_date": r.due_date.isoformat(),
        "opened_at": r.opened_at,
        "payment_method": r.payment_method,
        "payments": [asdict(p) for p in r.payments],
        "credits": [asdict(c) for c in r.credits],
        "cancelled_by": r.cancelled_by,
        "disputed_at": r.disputed_at,
        "dispute_reason": r.dispute_reason,
        "settled_at": r.settled_at,
        "dunning_level": r.dunning_level,
        "last_dunned_on": r.last_dunned_on.isoformat() if r.last_dunned_on else None,
        # derived, stored for the queries (open items, by status); never read back
        "status": r.status,
        "open_amount": r.open_amount,
        "overpaid_amount": r.overpaid_amount,
        "settled": r.settled,
    }


def receivable_of(doc: dict[str, Any]) -> Receivable:
    return Receivable(
        invoice_number=doc["invoice_number"],
        invoice_id=doc["invoice_id"],
        order_id=doc["order_id"],
        order_number=doc.get("order_number"),
        customer_email=doc["customer_email"],
        customer_name=doc["customer_name"],
        company=doc.get("company"),
        currency=doc["currency"],
        gross_total=doc["gross_total"],
        issue_date=date.fromisoformat(doc["issue_date"]),
        due_date=date.fromisoformat(doc["due_date"]),
        opened_at=doc["opened_at"],
        payment_method=doc.get("payment_method"),
        payments=[AppliedPayment(**p) for p in doc.get("payments") or []],
        credits=[Credit(**c) for c in doc.get("credits") or []],
        cancelled_by=doc.get("cancelled_by"),
        disputed_at=doc.get("disputed_at"),
        dispute_reason=doc.get("dispute_reason"),
        settled_at=doc.get("settled_at"),
        dunning_level=doc.get("dunning_level", 0),
        last_dunned_on=date.fromisoformat(doc["last_dunned_on"])
        if doc.get("last_dunned_on")
        else None,
    )


def payment_document(p: Payment) -> dict[str, Any]:
    return {"_id": p.payment_id, **asdict(p)}


def payment_of(doc: dict[str, Any]) -> Payment:
    return Payment(**{k: v for k, v in doc.items() if k in Payment.__dataclass_fields__})


class MongoReceivableRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    @property
    def _docs(self) -> Any:
        return self.tx.db[RECEIVABLES]

    async def get(self, invoice_number: str) -> Receivable | None:
        doc = await self._docs.find_one({"_id": invoice_number}, session=self.tx.session)
        return None if doc is None else receivable_of(doc)

    async def of_order(self, order_id: str) -> Receivable | None:
        # a reissued invoice (ADR 0025) opens a second receivable for the order: the
        # valid one (not cancelled) is the order's, else the newest
        doc = await self._docs.find_one(
            {"order_id": order_id},
            sort=[("cancelled_by", 1), ("opened_at", -1)],
            session=self.tx.session,
        )
        return None if doc is None else receivable_of(doc)

    async def add(self, receivable: Receivable) -> None:
        await self._docs.insert_one(receivable_document(receivable), session=self.tx.session)

    async def save(self, receivable: Receivable) -> None:
        await self._docs.replace_one(
            {"_id": receivable.invoice_number},
            receivable_document(receivable),
            upsert=True,
            session=self.tx.session,
        )

    async def dunning_candidates(
        self, due_before: date, below_level: int, limit: int
    ) -> list[Receivable]:
        docs = (
            await self._docs.find(
                {
                    "settled": False,
                    "disputed_at": None,
                    "dunning_level": {"$lt": below_level},
                    "due_date": {"$lt": due_before.isoformat()},
                },
                session=self.tx.session,
            )
            .sort("due_date", 1)
            .limit(limit)
            .to_list(limit)
        )
        return [receivable_of(d) for d in docs]


UNAPPLIED: dict[str, Any] = {"invoice_number": None, "held": None}
"""Payments not applied to an invoice yet (held: None also matches payments stored before
the field existed)."""


def _unapplied_of(order_id: str) -> str:
    """The memo's key (``Transaction.remember``) for an order's unapplied payments: no
    payment id is of this form."""
    return f"unapplied-of-order:{order_id}"


class MongoPaymentRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    @property
    def _docs(self) -> Any:
        return self.tx.db[PAYMENTS]

    async def get(self, payment_id: str) -> Payment | None:
        doc = await self._docs.find_one({"_id": payment_id}, session=self.tx.session)
        return None if doc is None else payment_of(doc)

    async def add(self, payment: Payment) -> None:
        await self._docs.insert_one(payment_document(payment), session=self.tx.session)
        self.tx.forget(PAYMENTS, _unapplied_of(payment.order_id))

    async def save(self, payment: Payment) -> None:
        await self._docs.replace_one(
            {"_id": payment.payment_id}, payment_document(payment), session=self.tx.session
        )
        self.tx.forget(PAYMENTS, _unapplied_of(payment.order_id))

    async def unapplied_of_order(self, order_id: str) -> list[Payment]:
        known, kept = self.tx.recall(PAYMENTS, _unapplied_of(order_id))
        if known and kept is not None:
            return [payment_of(d) for d in kept["payments"]]
        docs = (
            await self._docs.find({**UNAPPLIED, "order_id": order_id}, session=self.tx.session)
            .sort("received_at", 1)
            .to_list(None)
        )
        return [payment_of(d) for d in docs]

    async def prefetch_unapplied(self, order_ids: Sequence[str]) -> None:
        """Answer :meth:`unapplied_of_order` for ``order_ids`` with one query (ADR 0150);
        a payment this transaction adds or saves makes its order's answer be read again."""
        unknown = [
            i for i in dict.fromkeys(order_ids) if not self.tx.recall(PAYMENTS, _unapplied_of(i))[0]
        ]
        if not unknown:
            return
        by_order: dict[str, list[dict[str, Any]]] = {i: [] for i in unknown}
        async for doc in self._docs.find(
            {**UNAPPLIED, "order_id": {"$in": unknown}}, session=self.tx.session
        ).sort("received_at", 1):
            by_order[doc["order_id"]].append(doc)
        for order_id, docs in by_order.items():
            self.tx.remember(PAYMENTS, _unapplied_of(order_id), {"payments": docs})

    async def held_of_order(self, order_id: str) -> list[Payment]:
        docs = (
            await self._docs.find(
                {"order_id": order_id, "held": {"$type": "string"}}, session=self.tx.session
            )
            .sort("received_at", 1)
            .to_list(None)
        )
        return [payment_of(d) for d in docs]


class MongoStripeEventLog:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def add(self, event_id: str, event_type: str, at: datetime) -> bool:
        docs = self.tx.db[STRIPE_EVENTS]
        if await docs.find_one({"_id": event_id}, {"_id": 1}, session=self.tx.session):
            return False
        await docs.insert_one(
            {"_id": event_id, "type": event_type, "received_at": at}, session=self.tx.session
        )
        return True
