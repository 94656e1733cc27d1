"""The merchant's choices per buyer e-mail: the document language (``buyer_languages``)
and the days to pay (``buyer_payment_terms``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from kontor_servicekit.store import Transaction
from pymongo.asynchronous.database import AsyncDatabase

BUYER_LANGUAGES = "buyer_languages"
BUYER_PAYMENT_TERMS = "buyer_payment_terms"
T = TypeVar("T")


class MongoBuyerChoice(Generic[T]):
    """One choice per buyer e-mail (``_id`` lower case) in ``collection``, under ``field``."""

    def __init__(self, tx: Transaction, collection: str, field: str, convert: Callable[[Any], T]):
        self.tx, self.collection, self.field, self.convert = tx, collection, field, convert

    async def get(self, email: str) -> T | None:
        key = email.lower()
        known, doc = self.tx.recall(self.collection, key)
        if not known:
            doc = await self.tx.db[self.collection].find_one({"_id": key}, session=self.tx.session)
            self.tx.remember(self.collection, key, doc)
        return None if doc is None else self.convert(doc[self.field])

    async def prefetch(self, emails: Iterable[str]) -> None:
        """Answer :meth:`get` for ``emails`` with one query (ADR 0150)."""
        await self.tx.read_ahead(self.collection, sorted({e.lower() for e in emails}))

    async def set(self, email: str, value: T) -> None:
        doc = {"_id": email.lower(), self.field: value}
        await self.tx.db[self.collection].replace_one(
            {"_id": email.lower()}, doc, upsert=True, session=self.tx.session
        )
        self.tx.remember(self.collection, email.lower(), doc)


def MongoBuyerLanguages(tx: Transaction) -> MongoBuyerChoice[str]:
    return MongoBuyerChoice(tx, BUYER_LANGUAGES, "language", str)


def MongoBuyerTerms(tx: Transaction) -> MongoBuyerChoice[int]:
    return MongoBuyerChoice(tx, BUYER_PAYMENT_TERMS, "days", int)


class BuyerChoiceQueries(Generic[T]):
    """The routes' read of one choice per buyer e-mail (see ``MongoBuyerChoice``)."""

    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        collection: str,
        field: str,
        convert: Callable[[Any], T],
    ) -> None:
        self.db, self.collection, self.field, self.convert = db, collection, field, convert

    async def of(self, email: str) -> T | None:
        doc = await self.db[self.collection].find_one({"_id": email.lower()})
        return None if doc is None else self.convert(doc[self.field])
