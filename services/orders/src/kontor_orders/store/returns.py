"""Returns and pending withdrawals in the order service's database."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from kontor_servicekit.store import Transaction
from pymongo.asynchronous.database import AsyncDatabase

from kontor_orders.domain.returns import InspectedLine, Refund, Return, ReturnLine

RETURNS = "returns"
WITHDRAWALS = "withdrawals"


def to_document(r: Return) -> dict[str, Any]:
    return {
        "_id": r.id,
        "order_id": r.order_id,
        "order_number": r.order_number,
        "withdrawal": r.withdrawal,
        "kind": r.kind,
        "note": r.note,
        "status": r.status,
        "deadline": r.deadline,
        "requested_at": r.requested_at,
        "lines": [
            {"line_no": x.line_no, "sku": x.sku, "quantity": x.quantity, "reason": x.reason}
            for x in r.lines
        ],
        "inspected": [
            {
                "line_no": x.line_no,
                "sku": x.sku,
                "quantity": x.quantity,
                "condition": x.condition,
                "disposition": x.disposition,
            }
            for x in r.inspected
        ],
        "received_at": r.received_at,
        "refund": None
        if r.refund is None
        else {
            "amount": r.refund.amount,
            "includes_shipping": r.refund.includes_shipping,
            "lines": [{"line_no": n, "sku": s, "quantity": q} for n, s, q in r.refund.lines],
        },
        "completed_at": r.completed_at,
    }


def from_document(doc: dict[str, Any]) -> Return:
    refund = doc.get("refund")
    return Return(
        id=doc["_id"],
        order_id=doc["order_id"],
        order_number=doc["order_number"],
        withdrawal=doc["withdrawal"],
        kind=doc["kind"],
        note=doc.get("note"),
        status=doc["status"],
        deadline=doc.get("deadline"),
        requested_at=doc["requested_at"],
        lines=[ReturnLine(**x) for x in doc["lines"]],
        inspected=[InspectedLine(**x) for x in doc.get("inspected", [])],
        received_at=doc.get("received_at"),
        refund=None
        if refund is None
        else Refund(
            amount=Decimal(str(refund["amount"])),
            includes_shipping=refund["includes_shipping"],
            lines=tuple((x["line_no"], x["sku"], x["quantity"]) for x in refund["lines"]),
        ),
        completed_at=doc.get("completed_at"),
    )


class ReturnRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def add(self, r: Return) -> None:
        await self.tx.db[RETURNS].insert_one(to_document(r), session=self.tx.session)

    async def get(self, return_id: str) -> Return | None:
        doc = await self.tx.db[RETURNS].find_one({"_id": return_id}, session=self.tx.session)
        return None if doc is None else from_document(doc)

    async def save(self, r: Return) -> None:
        await self.tx.db[RETURNS].replace_one(
            {"_id": r.id}, to_document(r), session=self.tx.session
        )


async def get_return(db: AsyncDatabase[dict[str, Any]], return_id: str) -> Return | None:
    doc = await db[RETURNS].find_one({"_id": return_id})
    return None if doc is None else from_document(doc)


async def ensure_return_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[RETURNS].create_index([("status", 1), ("requested_at", -1)], name="by_status")
    await db[RETURNS].create_index("order_id", name="by_order")


async def withdrawal_at(
    db: AsyncDatabase[dict[str, Any]], withdrawal_id: str
) -> dict[str, Any] | None:
    return await db[WITHDRAWALS].find_one({"_id": withdrawal_id})


def new_withdrawal_document(
    *,
    withdrawal_id: str,
    order_id: str,
    order_number: str,
    lines: list[ReturnLine],
    deadline: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "_id": withdrawal_id,
        "order_id": order_id,
        "order_number": order_number,
        "status": "pending",
        "lines": [
            {"line_no": x.line_no, "sku": x.sku, "quantity": x.quantity, "reason": x.reason}
            for x in lines
        ],
        "deadline": deadline,
        "created_at": now,
        "confirmed_at": None,
        "return_id": None,
    }
