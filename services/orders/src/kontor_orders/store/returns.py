"""Returns and pending withdrawals in the order service's database."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kontor_servicekit.store import Transaction

from kontor_orders.domain.returns import InspectedLine, Refund, Return, ReturnLine, Withdrawal
from kontor_orders.store.retention import with_retention_from

RETURNS = "returns"
WITHDRAWALS = "withdrawals"


def _line(x: ReturnLine) -> dict[str, Any]:
    return {"line_no": x.line_no, "sku": x.sku, "quantity": x.quantity, "reason": x.reason}


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
        "lines": [_line(x) for x in r.lines],
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
            "line_amounts": [{"line_no": n, "amount": a} for n, a in r.refund.line_amounts],
            "shipping": r.refund.shipping,
        },
        "completed_at": r.completed_at,
        "closed_reason": r.closed_reason,
        "cancelled_order": r.cancelled_order,
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
            line_amounts=tuple(
                (x["line_no"], Decimal(str(x["amount"]))) for x in refund.get("line_amounts", [])
            ),
            shipping=Decimal(str(refund.get("shipping", "0"))),
        ),
        completed_at=doc.get("completed_at"),
        closed_reason=doc.get("closed_reason"),
        cancelled_order=doc.get("cancelled_order", False),
    )


def withdrawal_to_document(w: Withdrawal) -> dict[str, Any]:
    return {
        "_id": w.id,
        "order_id": w.order_id,
        "order_number": w.order_number,
        "status": w.status,
        "lines": [_line(x) for x in w.lines],
        "deadline": w.deadline,
        "created_at": w.created_at,
        "confirmed_at": w.confirmed_at,
        "return_id": w.return_id,
        "cancels_order": w.cancels_order,
    }


def withdrawal_from_document(doc: dict[str, Any]) -> Withdrawal:
    return Withdrawal(
        id=doc["_id"],
        order_id=doc["order_id"],
        order_number=doc["order_number"],
        status=doc["status"],
        lines=[ReturnLine(**x) for x in doc["lines"]],
        deadline=doc.get("deadline"),
        created_at=doc["created_at"],
        confirmed_at=doc.get("confirmed_at"),
        return_id=doc.get("return_id"),
        cancels_order=doc.get("cancels_order", False),
    )


class MongoReturnRepository:
    """``ReturnRepository`` inside one Mongo transaction."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def add(self, r: Return) -> None:
        await self.tx.db[RETURNS].insert_one(
            with_retention_from(to_document(r)), session=self.tx.session
        )

    async def get(self, return_id: str) -> Return | None:
        doc = await self.tx.db[RETURNS].find_one({"_id": return_id}, session=self.tx.session)
        return None if doc is None else from_document(doc)

    async def save(self, r: Return) -> None:
        await self.tx.db[RETURNS].replace_one(
            {"_id": r.id}, with_retention_from(to_document(r)), session=self.tx.session
        )


class MongoWithdrawalRepository:
    """``WithdrawalRepository`` inside one Mongo transaction."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def add(self, w: Withdrawal) -> None:
        await self.tx.db[WITHDRAWALS].insert_one(
            with_retention_from(withdrawal_to_document(w)), session=self.tx.session
        )

    async def get(self, withdrawal_id: str) -> Withdrawal | None:
        doc = await self.tx.db[WITHDRAWALS].find_one(
            {"_id": withdrawal_id}, session=self.tx.session
        )
        return None if doc is None else withdrawal_from_document(doc)

    async def save(self, w: Withdrawal) -> None:
        await self.tx.db[WITHDRAWALS].replace_one(
            {"_id": w.id}, with_retention_from(withdrawal_to_document(w)), session=self.tx.session
        )
