"""Complaints in the order service's database."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kontor_servicekit.store import Transaction

from kontor_orders.domain.complaint import Complaint, Resolution
from kontor_orders.store.retention import with_retention_from

COMPLAINTS = "complaints"


def to_document(c: Complaint) -> dict[str, Any]:
    r = c.resolution
    return {
        "_id": c.id,
        "order_id": c.order_id,
        "order_number": c.order_number,
        "line_no": c.line_no,
        "sku": c.sku,
        "description": c.description,
        "filed_at": c.filed_at,
        "photo_ids": c.photo_ids,
        "kind": c.kind,
        "desired_remedy": c.desired_remedy,
        "status": c.status,
        "resolution": None
        if r is None
        else {
            "remedy": r.remedy,
            "at": r.at,
            "note": r.note,
            "refund_amount": r.refund_amount,
            "carrier": r.carrier,
            "tracking_number": r.tracking_number,
        },
        "replacement_refused": c.replacement_refused,
    }


def from_document(doc: dict[str, Any]) -> Complaint:
    r = doc.get("resolution")
    return Complaint(
        id=doc["_id"],
        order_id=doc["order_id"],
        order_number=doc["order_number"],
        line_no=doc["line_no"],
        sku=doc["sku"],
        description=doc["description"],
        filed_at=doc["filed_at"],
        photo_ids=list(doc.get("photo_ids", [])),
        kind=doc.get("kind"),
        desired_remedy=doc.get("desired_remedy"),
        status=doc["status"],
        resolution=None
        if r is None
        else Resolution(
            remedy=r["remedy"],
            at=r["at"],
            note=r.get("note"),
            refund_amount=None
            if r.get("refund_amount") is None
            else Decimal(str(r["refund_amount"])),
            carrier=r.get("carrier"),
            tracking_number=r.get("tracking_number"),
        ),
        replacement_refused=doc.get("replacement_refused"),
    )


class MongoComplaintRepository:
    """``ComplaintRepository`` inside one Mongo transaction."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def add(self, c: Complaint) -> None:
        await self.tx.db[COMPLAINTS].insert_one(
            with_retention_from(to_document(c)), session=self.tx.session
        )

    async def get(self, complaint_id: str) -> Complaint | None:
        doc = await self.tx.db[COMPLAINTS].find_one({"_id": complaint_id}, session=self.tx.session)
        return None if doc is None else from_document(doc)

    async def save(self, c: Complaint) -> None:
        await self.tx.db[COMPLAINTS].replace_one(
            {"_id": c.id}, with_retention_from(to_document(c)), session=self.tx.session
        )
