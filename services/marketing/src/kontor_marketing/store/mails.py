"""The mail queue (``mails``): documents <-> :class:`QueuedMail`."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from kontor_servicekit.store import Transaction

from kontor_marketing.domain.mail import Mail, QueuedMail

MAILS = "mails"


def to_document(queued: QueuedMail) -> dict[str, Any]:
    doc = asdict(queued)
    doc["_id"] = doc.pop("id")
    doc["mail"]["headers"] = [list(h) for h in queued.mail.headers]
    doc["to"] = queued.mail.to
    # the one moment the sweeper looks for: queued -> not_before, sending -> lease end
    doc["due_at"] = (
        (queued.not_before or queued.created_at)
        if queued.status == "queued"
        else queued.lease_until
    )
    return doc


def from_document(doc: dict[str, Any]) -> QueuedMail:
    fields = {k: v for k, v in doc.items() if k not in {"_id", "to", "due_at", "mail"}}
    raw = doc["mail"]
    mail = Mail(**{**raw, "headers": tuple(tuple(h) for h in raw.get("headers") or ())})
    return QueuedMail(id=doc["_id"], mail=mail, **fields)


class MongoMailQueue:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.collection = tx.db[MAILS]

    async def add(self, mail: QueuedMail) -> None:
        await self.collection.insert_one(to_document(mail), session=self.tx.session)

    async def get(self, mail_id: str) -> QueuedMail | None:
        doc = await self.collection.find_one({"_id": mail_id}, session=self.tx.session)
        return None if doc is None else from_document(doc)

    async def save(self, mail: QueuedMail) -> None:
        await self.collection.replace_one(
            {"_id": mail.id}, to_document(mail), session=self.tx.session
        )

    async def due(self, now: datetime, limit: int) -> list[QueuedMail]:
        docs = (
            await self.collection.find(
                {"status": {"$in": ["queued", "sending"]}, "due_at": {"$lte": now}},
                session=self.tx.session,
            )
            .sort("due_at", 1)
            .limit(limit)
            .to_list(None)
        )
        return [m for m in map(from_document, docs) if m.due(now)]

    async def campaign_recipients(self, campaign_id: str) -> set[str]:
        docs = self.collection.find(
            {"campaign_id": campaign_id}, {"to": 1}, session=self.tx.session
        )
        return {d["to"] async for d in docs}

    async def waiting_flow(self, email: str, flow: str) -> list[QueuedMail]:
        docs = await self.collection.find(
            {"to": email, "status": "queued", "meta.flow": flow}, session=self.tx.session
        ).to_list(None)
        return [from_document(d) for d in docs]

    async def of_flow(self, email: str, flow: str) -> list[QueuedMail]:
        docs = await self.collection.find(
            {"to": email, "meta.flow": flow}, session=self.tx.session
        ).to_list(None)
        return [from_document(d) for d in docs]

    async def campaign_mails_since(self, emails: list[str], since: datetime) -> dict[str, int]:
        rows = await self.collection.aggregate(
            [
                {
                    "$match": {
                        "to": {"$in": emails},
                        "kind": "campaign",
                        "created_at": {"$gte": since},
                        "status": {"$in": ["queued", "sending", "sent"]},
                    }
                },
                {"$group": {"_id": "$to", "n": {"$sum": 1}}},
            ],
            session=self.tx.session,
        )
        return {row["_id"]: int(row["n"]) async for row in rows}

    async def to(self, email: str) -> list[QueuedMail]:
        docs = self.collection.find({"to": email}, session=self.tx.session).sort("created_at", 1)
        return [from_document(doc) async for doc in docs]

    async def delete_to(self, email: str) -> int:
        done = await self.collection.delete_many({"to": email}, session=self.tx.session)
        return done.deleted_count
