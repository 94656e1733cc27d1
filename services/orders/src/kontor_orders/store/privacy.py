"""Privacy requests and the person's records, over one Mongo transaction (issue 13).

``privacy_requests``: one document per request; ``expires_at`` carries a TTL index
(``privacy_expired``), so a request and an export's document are deleted
``KONTOR_ORDERS_PRIVACY_KEEP_DAYS`` after they were asked for.
"""

from __future__ import annotations

import re
from typing import Any

from kontor_servicekit.store import Transaction

from kontor_orders.domain.cart import Cart
from kontor_orders.domain.complaint import Complaint
from kontor_orders.domain.order import Order
from kontor_orders.domain.parties import email_key
from kontor_orders.domain.privacy import PrivacyRequest
from kontor_orders.domain.returns import Return
from kontor_orders.store import carts, complaints, orders, returns

PRIVACY_REQUESTS = "privacy_requests"


def to_document(request: PrivacyRequest) -> dict[str, Any]:
    return {
        "_id": request.id,
        "kind": request.kind,
        "subject_id": request.subject_id,
        "email": request.email,
        "expected": list(request.expected),
        "requested_at": request.requested_at,
        "answers": request.answers,
        "status": request.status,
        "completed_at": request.completed_at,
        "expires_at": request.expires_at,
        "answer_by": request.answer_by,
        "key_destroyed_at": request.key_destroyed_at,
        "version": request.version,
    }


def from_document(doc: dict[str, Any]) -> PrivacyRequest:
    return PrivacyRequest(
        id=doc["_id"],
        kind=doc["kind"],
        subject_id=doc["subject_id"],
        email=doc.get("email"),
        expected=tuple(doc.get("expected", ())),
        requested_at=doc["requested_at"],
        answers=doc.get("answers", {}),
        status=doc["status"],
        completed_at=doc.get("completed_at"),
        expires_at=doc.get("expires_at"),
        answer_by=doc.get("answer_by"),
        key_destroyed_at=doc.get("key_destroyed_at"),
        version=doc.get("version", 1),
    )


class MongoPrivacyRequestRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def add(self, request: PrivacyRequest) -> None:
        await self.tx.db[PRIVACY_REQUESTS].insert_one(to_document(request), session=self.tx.session)

    async def get(self, request_id: str) -> PrivacyRequest | None:
        doc = await self.tx.db[PRIVACY_REQUESTS].find_one(
            {"_id": request_id}, session=self.tx.session
        )
        return None if doc is None else from_document(doc)

    async def save(self, request: PrivacyRequest) -> None:
        request.version += 1
        await self.tx.db[PRIVACY_REQUESTS].replace_one(
            {"_id": request.id}, to_document(request), session=self.tx.session
        )

    async def of_subject(self, subject_id: str) -> list[PrivacyRequest]:
        cursor = self.tx.db[PRIVACY_REQUESTS].find(
            {"subject_id": subject_id}, session=self.tx.session
        )
        return [from_document(doc) async for doc in cursor]

    async def unsettled(self) -> list[PrivacyRequest]:
        """Requests still pending, or whose own key is not destroyed yet (index
        ``unsettled``: few at any time)."""
        cursor = self.tx.db[PRIVACY_REQUESTS].find(
            {"key_destroyed_at": None}, session=self.tx.session
        )
        return [from_document(doc) async for doc in cursor]


class MongoPersonalRecords:
    """What orders holds on one person (indexes ``by_customer_email`` and ``by_order``)."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def _find(self, collection: str, query: dict[str, Any]) -> list[dict[str, Any]]:
        await self.tx.flush(collection)  # what this unit saved to be written later (ADR 0151)
        cursor = self.tx.db[collection].find(query, session=self.tx.session)
        return [doc async for doc in cursor]

    async def orders_of(self, email: str) -> list[Order]:
        docs = await self._find(orders.ORDERS, {orders.EMAIL_KEY: email_key(email)})
        return [orders.from_document(d) for d in docs]

    async def carts_of(self, email: str) -> list[Cart]:
        # carts keep the address as typed and have no index on it: a rare full scan
        pattern = {"$regex": f"^\\s*{re.escape(email.strip())}\\s*$", "$options": "i"}
        docs = await self._find(carts.CARTS, {"customer_email": pattern})
        return [carts.from_document(d) for d in docs]

    async def returns_of(self, order_ids: list[str]) -> list[Return]:
        docs = await self._find(returns.RETURNS, {"order_id": {"$in": order_ids}})
        return [returns.from_document(d) for d in docs]

    async def complaints_of(self, order_ids: list[str]) -> list[Complaint]:
        docs = await self._find(complaints.COMPLAINTS, {"order_id": {"$in": order_ids}})
        return [complaints.from_document(d) for d in docs]
