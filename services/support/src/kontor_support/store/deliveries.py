"""Queued outgoing replies (``deliveries``): documents <-> :class:`Delivery`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from kontor_servicekit.store import Transaction

from kontor_support.domain.delivery import Delivery
from kontor_support.domain.message import Attachment

DELIVERIES = "deliveries"


def to_document(delivery: Delivery) -> dict[str, Any]:
    return {
        "_id": delivery.id,
        "ticket_id": delivery.ticket_id,
        "ticket_message_id": delivery.ticket_message_id,
        "channel": delivery.channel,
        "to_email": delivery.to_email,
        "to_name": delivery.to_name,
        "subject": delivery.subject,
        "body_text": delivery.body_text,
        "body_html": delivery.body_html,
        "message_id": delivery.message_id,
        "in_reply_to": delivery.in_reply_to,
        "references": list(delivery.references),
        "external_conversation_id": delivery.external_conversation_id,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at,
        "sent_at": delivery.sent_at,
        "not_before": delivery.not_before,
        "claim": delivery.claim,
        "claimed_until": delivery.claimed_until,
        "attachments": [asdict(a) for a in delivery.attachments],
    }


def from_document(doc: dict[str, Any]) -> Delivery:
    return Delivery(
        id=doc["_id"],
        ticket_id=doc["ticket_id"],
        ticket_message_id=doc["ticket_message_id"],
        channel=doc["channel"],
        to_email=doc.get("to_email"),
        to_name=doc.get("to_name"),
        subject=doc.get("subject"),
        body_text=doc["body_text"],
        body_html=doc.get("body_html"),
        message_id=doc.get("message_id"),
        in_reply_to=doc.get("in_reply_to"),
        references=tuple(doc.get("references") or ()),
        external_conversation_id=doc.get("external_conversation_id"),
        status=doc["status"],
        attempts=int(doc.get("attempts", 0)),
        last_error=doc.get("last_error"),
        created_at=doc["created_at"],
        sent_at=doc.get("sent_at"),
        not_before=doc.get("not_before"),
        claim=doc.get("claim"),
        claimed_until=doc.get("claimed_until"),
        attachments=tuple(Attachment(**a) for a in doc.get("attachments") or ()),
    )


class MongoDeliveryRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.deliveries = tx.db[DELIVERIES]

    async def add(self, delivery: Delivery) -> None:
        await self.deliveries.insert_one(to_document(delivery), session=self.tx.session)

    async def get(self, delivery_id: str) -> Delivery | None:
        doc = await self.deliveries.find_one({"_id": delivery_id}, session=self.tx.session)
        return None if doc is None else from_document(doc)

    async def erase_of_ticket(self, ticket_id: str) -> int:
        queued = await self.deliveries.delete_many(
            {"ticket_id": ticket_id, "status": {"$ne": "sent"}}, session=self.tx.session
        )
        sent = await self.deliveries.update_many(
            {"ticket_id": ticket_id, "status": "sent"},
            {
                "$set": {
                    "to_email": None,
                    "to_name": None,
                    "body_text": "",
                    "body_html": None,
                    "attachments": [],
                }
            },
            session=self.tx.session,
        )
        return queued.deleted_count + sent.modified_count

    async def save(self, delivery: Delivery) -> None:
        await self.deliveries.replace_one(
            {"_id": delivery.id}, to_document(delivery), session=self.tx.session
        )
