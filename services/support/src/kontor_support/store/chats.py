"""Chats (``chats``): documents <-> :class:`Chat`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from kontor_servicekit.store import Transaction

from kontor_support.domain.chat import Chat

CHATS = "chats"


def to_document(chat: Chat) -> dict[str, Any]:
    doc = asdict(chat)
    doc["_id"] = doc.pop("id")
    return doc


def from_document(doc: dict[str, Any]) -> Chat:
    values = {k: v for k, v in doc.items() if k != "_id" and k in Chat.__dataclass_fields__}
    return Chat(id=doc["_id"], **values)


class MongoChatRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.chats = tx.db[CHATS]

    async def add(self, chat: Chat) -> None:
        await self.chats.insert_one(to_document(chat), session=self.tx.session)

    async def get(self, chat_id: str) -> Chat | None:
        doc = await self.chats.find_one({"_id": chat_id}, session=self.tx.session)
        return None if doc is None else from_document(doc)

    async def of_customer(self, email: str) -> list[Chat]:
        cursor = self.chats.find({"customer_email": email}, session=self.tx.session)
        return [from_document(doc) async for doc in cursor]

    async def forget(self, email: str) -> int:
        done = await self.chats.delete_many({"customer_email": email}, session=self.tx.session)
        return done.deleted_count

    async def delete(self, chat_id: str) -> None:
        await self.chats.delete_one({"_id": chat_id}, session=self.tx.session)

    async def save(self, chat: Chat) -> None:
        await self.chats.replace_one({"_id": chat.id}, to_document(chat), session=self.tx.session)
