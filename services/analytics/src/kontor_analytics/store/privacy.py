"""What analytics holds on a person, found by the e-mail's hash (ADR 0094).

The orders' read model keeps a hash of the buyer's e-mail and their customer id; the
storefront's GA4 ``user_id`` is the shop's customer id (or the e-mail itself), and every
client id seen with one of those user ids belongs to the person too.
"""

from __future__ import annotations

from typing import Any

from kontor_servicekit.store import Transaction

from kontor_analytics.store.collected import RAW_EVENTS, SESSION_CLIENTS, SESSIONS
from kontor_analytics.store.facts import FACT_ORDERS


class MongoPrivacyRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.db = tx.db

    async def identities(self, email: str, email_hash: str) -> tuple[list[str], list[str]]:
        """The person's user ids (customer ids and the e-mail) and client ids."""
        s = self.tx.session
        orders = self.db[FACT_ORDERS].find({"customer": email_hash}, {"customer_id": 1}, session=s)
        users = {email} | {
            doc["customer_id"] for doc in await orders.to_list(None) if doc.get("customer_id")
        }
        wanted = {"user_id": {"$in": sorted(users)}}
        clients = set()
        for name in (SESSIONS, RAW_EVENTS):
            found = self.db[name].find(wanted, {"client_id": 1}, session=s)
            clients |= {doc["client_id"] for doc in await found.to_list(None)}
        return sorted(users), sorted(clients)

    async def export(self, clients: list[str], email_hash: str) -> dict[str, Any]:
        s = self.tx.session
        of_clients = {"client_id": {"$in": clients}}
        sessions = await self.db[SESSIONS].find(of_clients, session=s).to_list(None)
        raw = await self.db[RAW_EVENTS].find(of_clients, session=s).sort("at", 1).to_list(None)
        orders = await self.db[FACT_ORDERS].count_documents({"customer": email_hash}, session=s)
        return {
            "client_ids": clients,
            "sessions": [
                {
                    "started_at": doc["started_at"].isoformat(),
                    "source": f"{doc['source']} / {doc['medium']}",
                    "steps": doc["steps"],
                    "user_id": doc.get("user_id"),
                }
                for doc in sessions
            ],
            "events": [
                {
                    "name": doc["name"],
                    "at": doc["at"].isoformat(),
                    "params": doc["params"],
                    "ip": doc.get("ip"),
                }
                for doc in raw
            ],
            "orders_counted": orders,
        }

    async def erase(self, clients: list[str], email_hash: str) -> dict[str, int]:
        s = self.tx.session
        of_clients = {"client_id": {"$in": clients}}
        raw = await self.db[RAW_EVENTS].delete_many(of_clients, session=s)
        sessions = await self.db[SESSIONS].delete_many(of_clients, session=s)
        await self.db[SESSION_CLIENTS].delete_many({"_id": {"$in": clients}}, session=s)
        orders = await self.db[FACT_ORDERS].update_many(
            {"customer": email_hash},
            {"$set": {"customer": None, "customer_id": None, "subject": None}},
            session=s,
        )
        return {
            "raw_events": raw.deleted_count,
            "sessions": sessions.deleted_count,
            "orders": orders.modified_count,
        }
