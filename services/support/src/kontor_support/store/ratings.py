"""Customer satisfaction ratings (``ratings``, one per ticket): documents <-> :class:`Rating`."""

from __future__ import annotations

from typing import Any

from kontor_servicekit.store import Transaction

from kontor_support.domain.rating import Rating

RATINGS = "ratings"


def to_document(rating: Rating) -> dict[str, Any]:
    return {
        "_id": rating.ticket_id,
        "agent": rating.agent,
        "channel": rating.channel,
        "requested_at": rating.requested_at,
        "expires_at": rating.expires_at,
        "score": rating.score,
        "rated_at": rating.rated_at,
        "comment": rating.comment,
        "language": rating.language,
    }


def from_document(doc: dict[str, Any]) -> Rating:
    return Rating(
        ticket_id=doc["_id"],
        agent=doc["agent"],
        channel=doc["channel"],
        requested_at=doc["requested_at"],
        expires_at=doc["expires_at"],
        score=doc.get("score"),
        rated_at=doc.get("rated_at"),
        comment=doc.get("comment"),
        language=doc.get("language") or "de",  # asked before ADR 0122: German
    )


class MongoRatingRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.ratings = tx.db[RATINGS]

    async def add(self, rating: Rating) -> None:
        await self.ratings.insert_one(to_document(rating), session=self.tx.session)

    async def get(self, ticket_id: str) -> Rating | None:
        doc = await self.ratings.find_one({"_id": ticket_id}, session=self.tx.session)
        return None if doc is None else from_document(doc)

    async def save(self, rating: Rating) -> None:
        await self.ratings.replace_one(
            {"_id": rating.ticket_id}, to_document(rating), session=self.tx.session
        )
