"""Billing's other collections: its read model of orders, the seller, the audit chain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from kontor_servicekit.store import Transaction

from kontor_billing.domain.audit import AuditEntry
from kontor_billing.domain.order import BilledOrder, Buyer, OrderedLine, PlacedOrder
from kontor_billing.domain.seller import Seller
from kontor_billing.store.invoices import seller_document, seller_of

ORDERS = "orders"
SELLER = "seller"
AUDIT = "audit"
CURRENT_SELLER = "current"


def order_document(order: BilledOrder) -> dict[str, Any]:
    doc = asdict(order)
    doc["_id"] = doc.pop("order_id")
    if order.placed is not None:
        doc["placed"]["coupon_codes"] = list(order.placed.coupon_codes)
    return doc


def order_of(doc: dict[str, Any]) -> BilledOrder:
    placed = doc.get("placed")
    return BilledOrder(
        order_id=doc["_id"],
        placed=None
        if placed is None
        else PlacedOrder(
            order_number=placed["order_number"],
            buyer=Buyer(**placed["buyer"]),
            currency=placed["currency"],
            lines=[OrderedLine(**line) for line in placed["lines"]],
            shipping=[OrderedLine(**line) for line in placed["shipping"]],
            placed_at=placed.get("placed_at"),
            exemption_note=placed.get("exemption_note"),
            discount_gross=placed.get("discount_gross"),
            coupon_codes=tuple(placed.get("coupon_codes") or ()),
            destination_country=placed.get("destination_country"),
            vat_country=placed.get("vat_country"),
            payment_method=placed.get("payment_method"),
        ),
        confirmed_at=doc.get("confirmed_at"),
        shipped_at=doc.get("shipped_at"),
        rejected=bool(doc.get("rejected")),
        cancelled=bool(doc.get("cancelled")),
        invoice_number=doc.get("invoice_number"),
        waiting=doc.get("waiting"),
        rule_ids=list(doc.get("rule_ids") or []),
        payments_held=bool(doc.get("payments_held")),
    )


def audit_document(entry: AuditEntry) -> dict[str, Any]:
    return {"_id": f"{entry.chain}:{entry.seq:09d}", **asdict(entry)}


def audit_entry_of(doc: dict[str, Any]) -> AuditEntry:
    return AuditEntry(**{k: v for k, v in doc.items() if k != "_id"})


class MongoOrderBook:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def get(self, order_id: str) -> BilledOrder | None:
        known, doc = self.tx.recall(ORDERS, order_id)  # an earlier event of this transaction
        if not known:
            doc = await self.tx.db[ORDERS].find_one({"_id": order_id}, session=self.tx.session)
            self.tx.remember(ORDERS, order_id, doc)
        return None if doc is None else order_of(doc)

    async def prefetch(self, order_ids: Sequence[str]) -> list[BilledOrder]:
        """Read ``order_ids`` for :meth:`get`, one query for all (ADR 0150); an absent one is
        remembered as absent. Returns the orders this transaction knows of them."""
        await self.tx.read_ahead(ORDERS, order_ids)
        return [order for i in dict.fromkeys(order_ids) if (order := await self.get(i))]

    async def save(self, order: BilledOrder) -> None:
        # written when the unit of work ends, with the other orders it saved: one command
        # for a batch of events (ADR 0151); read back from the memo meanwhile
        self.tx.replace_later(ORDERS, order_document(order))

    async def waiting(self, limit: int) -> list[BilledOrder]:
        await self.tx.flush(ORDERS)
        docs = (
            await self.tx.db[ORDERS]
            .find({"waiting": {"$ne": None}}, session=self.tx.session)
            .to_list(limit)
        )
        return [order_of(d) for d in docs]


class MongoSellerRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def current(self) -> Seller | None:
        known, doc = self.tx.recall(SELLER, CURRENT_SELLER)
        if not known:
            doc = await self.tx.db[SELLER].find_one(
                {"_id": CURRENT_SELLER}, session=self.tx.session
            )
            self.tx.remember(SELLER, CURRENT_SELLER, doc)
        return None if doc is None else seller_of(doc)

    async def save(self, seller: Seller) -> None:
        doc = {"_id": CURRENT_SELLER, **seller_document(seller)}
        await self.tx.db[SELLER].replace_one(
            {"_id": CURRENT_SELLER}, doc, upsert=True, session=self.tx.session
        )
        self.tx.remember(SELLER, CURRENT_SELLER, doc)


class MongoAuditLog:
    """Append-only: entries are inserted under ``chain:seq``, a concurrent append of
    the same seq conflicts; nothing here updates or deletes."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def last(self, chain: str) -> AuditEntry | None:
        # the chain's head, which an earlier event of this transaction may have appended
        known, doc = self.tx.recall(AUDIT, chain)
        if not known:
            docs = (
                await self.tx.db[AUDIT]
                .find({"chain": chain}, session=self.tx.session)
                .sort("seq", -1)
                .limit(1)
                .to_list(1)
            )
            doc = docs[0] if docs else None
            self.tx.remember(AUDIT, chain, doc)
        return None if doc is None else audit_entry_of(doc)

    async def append(self, entry: AuditEntry) -> None:
        doc = audit_document(entry)
        await self.tx.db[AUDIT].insert_one(doc, session=self.tx.session)
        self.tx.remember(AUDIT, entry.chain, doc)
