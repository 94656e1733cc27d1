"""Raw collected events and the sessions made of them.

``raw_events``: one document per collected event, as received (the parameters as JSON
text, so any key a page sends is kept as sent), deleted by a TTL index
``raw_events_ttl_days`` after receipt. ``sessions`` and ``session_clients`` are derived
from them (``application/collect.py``) and can be rebuilt from them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from kontor_servicekit.store import Transaction

from kontor_analytics.domain.collect import Hit, RawEvent, Source
from kontor_analytics.domain.sessions import ClientState, Session

RAW_EVENTS = "raw_events"
SESSIONS = "sessions"
SESSION_CLIENTS = "session_clients"


def raw_document(event: RawEvent) -> dict[str, Any]:
    return {
        "_id": event.event_id,
        "client_id": event.client_id,
        "user_id": event.user_id,
        "name": event.hit.name,
        "at": event.hit.at,
        "params": json.dumps(event.hit.params, separators=(",", ":")),
        "received_at": event.received_at,
        "ip": event.ip,
        "bot": event.bot,
        "bot_reason": event.bot_reason,
    }


def raw_event(doc: dict[str, Any]) -> RawEvent:
    return RawEvent(
        event_id=doc["_id"],
        client_id=doc["client_id"],
        user_id=doc.get("user_id"),
        hit=Hit(doc["name"], doc["at"], json.loads(doc["params"])),
        received_at=doc["received_at"],
        ip=doc.get("ip"),
        bot=doc["bot"],
        bot_reason=doc.get("bot_reason"),
    )


def session_document(session: Session) -> dict[str, Any]:
    return {
        "_id": session.key,
        "client_id": session.client_id,
        "user_id": session.user_id,
        "started_at": session.started_at,
        "last_at": session.last_at,
        "source": session.source.source,
        "medium": session.source.medium,
        "campaign": session.source.campaign,
        "sourced": session.sourced,
        "events": session.events,
        "steps": sorted(session.steps),
        "viewed": sorted(session.viewed),
        "carted": sorted(session.carted),
        "purchased": sorted(session.purchased),
        "categories_viewed": sorted(session.categories_viewed),
        "categories_purchased": sorted(session.categories_purchased),
        "cart_value": session.cart_value,
        "purchase_value": session.purchase_value,
        "transactions": sorted(session.transactions),
        "errors": list(session.errors),
    }


def session_of(doc: dict[str, Any]) -> Session:
    return Session(
        key=doc["_id"],
        client_id=doc["client_id"],
        user_id=doc.get("user_id"),
        started_at=doc["started_at"],
        last_at=doc["last_at"],
        source=Source(doc["source"], doc["medium"], doc.get("campaign")),
        sourced=doc["sourced"],
        events=doc["events"],
        steps=set(doc["steps"]),
        viewed=set(doc["viewed"]),
        carted=set(doc["carted"]),
        purchased=set(doc["purchased"]),
        categories_viewed=set(doc["categories_viewed"]),
        categories_purchased=set(doc["categories_purchased"]),
        cart_value=doc["cart_value"],
        purchase_value=doc["purchase_value"],
        transactions=set(doc["transactions"]),
        errors=list(doc["errors"]),
    )


class MongoRawEventRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.raw = tx.db[RAW_EVENTS]

    async def add(self, events: Sequence[RawEvent]) -> None:
        if events:
            await self.raw.insert_many(
                [raw_document(e) for e in events], ordered=False, session=self.tx.session
            )

    async def of_clients(self, clients: Sequence[str]) -> dict[str, list[RawEvent]]:
        cursor = self.raw.find({"client_id": {"$in": list(clients)}}, session=self.tx.session)
        found: dict[str, list[RawEvent]] = {}
        for doc in await cursor.to_list(None):
            found.setdefault(doc["client_id"], []).append(raw_event(doc))
        for events in found.values():
            events.sort(key=lambda e: e.hit.at)
        return found


class MongoSessionRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.sessions = tx.db[SESSIONS]
        self.clients = tx.db[SESSION_CLIENTS]

    async def client(self, client_id: str) -> ClientState | None:
        doc = await self.clients.find_one({"_id": client_id}, session=self.tx.session)
        return None if doc is None else ClientState(client_id, doc["session_key"], doc["last_at"])

    async def save_client(self, state: ClientState) -> None:
        await self.clients.replace_one(
            {"_id": state.client_id},
            {"session_key": state.session_key, "last_at": state.last_at},
            upsert=True,
            session=self.tx.session,
        )

    async def get(self, key: str) -> Session | None:
        doc = await self.sessions.find_one({"_id": key}, session=self.tx.session)
        return None if doc is None else session_of(doc)

    async def save(self, session: Session) -> None:
        await self.sessions.replace_one(
            {"_id": session.key}, session_document(session), upsert=True, session=self.tx.session
        )

    async def add_many(self, sessions: Sequence[Session]) -> None:
        if sessions:
            docs = [session_document(s) for s in sessions]
            await self.sessions.insert_many(docs, session=self.tx.session)

    async def forget_clients(self, clients: Sequence[str]) -> int:
        wanted = {"$in": list(clients)}
        done = await self.sessions.delete_many({"client_id": wanted}, session=self.tx.session)
        await self.clients.delete_many({"_id": wanted}, session=self.tx.session)
        return done.deleted_count
