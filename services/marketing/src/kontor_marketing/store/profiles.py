"""Profiles (``profiles``, ``_id`` the e-mail) and segments (``segments``).

A profile document keeps the folded facts, ``order_ids`` and ``ticket_ids`` (so an event
that names only the order or the ticket finds its profile, indexed) and ``segments``
(the live membership, indexed: a segment's members are one indexed query).
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any

from kontor_servicekit.store import Transaction

from kontor_marketing.domain.profile import OrderFacts, Profile, Segment, TicketFacts
from kontor_marketing.domain.segment_flows import EntryMail, SegmentEntry

PROFILES = "profiles"
SEGMENTS = "segments"
SEGMENT_ENTRIES = "segment_entries"


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def to_document(profile: Profile) -> dict[str, Any]:
    return {
        "_id": profile.email,
        "customer_id": profile.customer_id,
        "name": profile.name,
        "orders": {
            oid: {**asdict(o), "coupon_codes": list(o.coupon_codes)}
            for oid, o in profile.orders.items()
        },
        "order_ids": list(profile.orders),
        "last_activity_at": profile.last_activity_at,
        "open_cart_value": profile.open_cart_value,
        "open_cart_at": profile.open_cart_at,
        "consent": profile.consent,
        "segments": list(profile.segments),
        "tickets": {tid: asdict(t) for tid, t in profile.tickets.items()},
        "ticket_ids": list(profile.tickets),
    }


def from_document(doc: dict[str, Any]) -> Profile:
    return Profile(
        email=doc["_id"],
        customer_id=doc.get("customer_id"),
        name=doc.get("name"),
        orders={
            oid: OrderFacts(
                placed_at=o["placed_at"],
                gross=Decimal(str(o["gross"])),
                status=o.get("status", "placed"),
                refunded=Decimal(str(o.get("refunded", "0"))),
                returned=bool(o.get("returned")),
                coupon_codes=tuple(o.get("coupon_codes") or ()),
                number=o.get("number"),
                categories=dict(o.get("categories") or {}),
            )
            for oid, o in (doc.get("orders") or {}).items()
        },
        last_activity_at=doc.get("last_activity_at"),
        open_cart_value=_dec(doc.get("open_cart_value")),
        open_cart_at=doc.get("open_cart_at"),
        consent=doc.get("consent", "none"),
        segments=tuple(doc.get("segments") or ()),
        tickets={
            tid: TicketFacts(opened_at=t["opened_at"], status=t.get("status", "open"))
            for tid, t in (doc.get("tickets") or {}).items()
        },
    )


def segment_of(doc: dict[str, Any]) -> Segment:
    entry = doc.get("entry_mail")
    return Segment(
        id=doc["_id"],
        name=doc["name"],
        rule=doc["rule"],
        created_at=doc["created_at"],
        entry_mail=None if entry is None else EntryMail(**entry),
    )


def segment_document(segment: Segment) -> dict[str, Any]:
    entry = None if segment.entry_mail is None else asdict(segment.entry_mail)
    return {
        "_id": segment.id,
        "name": segment.name,
        "rule": segment.rule,
        "created_at": segment.created_at,
        "entry_mail": entry,
    }


class MongoProfileRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.collection = tx.db[PROFILES]

    async def get(self, email: str) -> Profile | None:
        doc = await self.collection.find_one({"_id": email}, session=self.tx.session)
        return None if doc is None else from_document(doc)

    async def by_order(self, order_id: str) -> Profile | None:
        doc = await self.collection.find_one({"order_ids": order_id}, session=self.tx.session)
        return None if doc is None else from_document(doc)

    async def by_ticket(self, ticket_id: str) -> Profile | None:
        doc = await self.collection.find_one({"ticket_ids": ticket_id}, session=self.tx.session)
        return None if doc is None else from_document(doc)

    async def save(self, profile: Profile) -> None:
        await self.collection.replace_one(
            {"_id": profile.email}, to_document(profile), upsert=True, session=self.tx.session
        )

    async def all(self) -> list[Profile]:
        docs = await self.collection.find({}, session=self.tx.session).to_list(None)
        return [from_document(d) for d in docs]

    async def delete(self, email: str) -> bool:
        done = await self.collection.delete_one({"_id": email}, session=self.tx.session)
        return done.deleted_count > 0

    async def in_segment(self, segment_id: str) -> list[Profile]:
        found = self.collection.find({"segments": segment_id}, session=self.tx.session)
        return [from_document(d) for d in await found.sort("_id", 1).to_list(None)]


class MongoSegmentRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.collection = tx.db[SEGMENTS]

    async def add(self, segment: Segment) -> None:
        await self.collection.insert_one(segment_document(segment), session=self.tx.session)

    async def save(self, segment: Segment) -> None:
        await self.collection.replace_one(
            {"_id": segment.id}, segment_document(segment), session=self.tx.session
        )

    async def all(self) -> list[Segment]:
        docs = await self.collection.find({}, session=self.tx.session).to_list(None)
        return [segment_of(d) for d in docs]

    async def get(self, segment_id: str) -> Segment | None:
        doc = await self.collection.find_one({"_id": segment_id}, session=self.tx.session)
        return None if doc is None else segment_of(doc)


class MongoSegmentEntries:
    """``segment_entries``: who entered a segment with an entry mail, until it is queued."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.collection = tx.db[SEGMENT_ENTRIES]

    async def add(self, entry: SegmentEntry) -> None:
        doc = asdict(entry)
        doc["_id"] = doc.pop("id")
        await self.collection.insert_one(doc, session=self.tx.session)

    async def oldest(self, limit: int) -> list[SegmentEntry]:
        docs = await self.collection.find({}, session=self.tx.session).sort("at", 1).to_list(limit)
        return [
            SegmentEntry(id=d["_id"], email=d["email"], segment_id=d["segment_id"], at=d["at"])
            for d in docs
        ]

    async def delete(self, entry_id: str) -> None:
        await self.collection.delete_one({"_id": entry_id}, session=self.tx.session)

    async def delete_of(self, email: str) -> int:
        done = await self.collection.delete_many({"email": email}, session=self.tx.session)
        return done.deleted_count
