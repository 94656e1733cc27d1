"""Consents (``consents``, ``_id`` the normalised e-mail): documents <-> :class:`Consent`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from kontor_servicekit.store import Transaction

from kontor_marketing.domain.consent import Consent, Evidence, TopicConsent

CONSENTS = "consents"


def to_document(consent: Consent) -> dict[str, Any]:
    return {
        "_id": consent.email,
        "locale": consent.locale,
        "status": consent.status,
        "customer_id": consent.customer_id,
        "topics": {name: asdict(t) for name, t in consent.topics.items()},
        "confirmed_topics": list(consent.confirmed_topics()),
        "evidence": [{**asdict(e), "topics": list(e.topics)} for e in consent.evidence],
    }


def from_document(doc: dict[str, Any]) -> Consent:
    return Consent(
        email=doc["_id"],
        locale=doc.get("locale", "de"),
        customer_id=doc.get("customer_id"),
        topics={name: TopicConsent(**t) for name, t in (doc.get("topics") or {}).items()},
        evidence=[
            Evidence(**{**e, "topics": tuple(e.get("topics") or ())})
            for e in doc.get("evidence") or []
        ],
    )


class MongoConsentRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.collection = tx.db[CONSENTS]

    async def get(self, email: str) -> Consent | None:
        doc = await self.collection.find_one({"_id": email}, session=self.tx.session)
        return None if doc is None else from_document(doc)

    async def save(self, consent: Consent) -> None:
        await self.collection.replace_one(
            {"_id": consent.email}, to_document(consent), upsert=True, session=self.tx.session
        )

    async def delete(self, email: str) -> bool:
        done = await self.collection.delete_one({"_id": email}, session=self.tx.session)
        return done.deleted_count > 0
