"""Quotes and the catalog read model they are priced from, in MongoDB.

``quotes``: one document per quote, ``_id`` its number; ``valid_until`` is kept as an
ISO date string (BSON has no date without a time) and ``expires_at`` as the moment it
ends, for the sweeper's index; ``customer_email`` is the buyer's e-mail as searched
(``email_search_key``: trimmed, lower case; migration ``0701-quote-email-search-key``
added it to quotes made before). ``quote_catalog``: billing's read model of the
catalog's products, the newest event winning (``upsert_if_newer``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from kontor_servicekit.projections import upsert_if_newer
from kontor_servicekit.store import Document, Store, Transaction, find_page
from pymongo.asynchronous.database import AsyncDatabase

from kontor_billing.domain.quotes import (
    CatalogPrice,
    Quote,
    QuoteAddress,
    QuoteBuyer,
    QuoteLine,
    QuoteState,
    email_search_key,
)

QUOTES = "quotes"
QUOTE_CATALOG = "quote_catalog"


def quote_document(quote: Quote) -> dict[str, Any]:
    doc = asdict(quote)
    doc["_id"] = doc.pop("number")
    doc["valid_until"] = quote.valid_until.isoformat()
    doc["customer_email"] = email_search_key(quote.buyer.email)
    doc["expires_at"] = quote.expires_at
    doc["lines"] = [asdict(line) for line in quote.lines]
    doc["history"] = [{"state": s, "at": at} for s, at in quote.history]
    return doc


def quote_of(doc: Mapping[str, Any]) -> Quote:
    ship = doc.get("shipping_address")
    return Quote(
        number=doc["_id"],
        buyer=QuoteBuyer(**doc["buyer"]),
        lines=tuple(QuoteLine(**line) for line in doc["lines"]),  # Decimal128 -> Decimal
        currency=doc["currency"],
        created_at=doc["created_at"],
        valid_until=date.fromisoformat(doc["valid_until"]),
        discount_percent=Decimal(str(doc.get("discount_percent", 0))),
        notes=doc.get("notes"),
        shipping_address=None if ship is None else QuoteAddress(**ship),
        state=doc["state"],
        decided_at=doc.get("decided_at"),
        language=doc.get("language", "de"),
        history=[(h["state"], h["at"]) for h in doc.get("history", [])],
    )


def catalog_price(doc: Mapping[str, Any]) -> CatalogPrice | None:
    if "price_net" not in doc:
        return None
    return CatalogPrice(
        sku=doc["_id"],
        name=doc.get("name", doc["_id"]),
        price_net=Decimal(str(doc["price_net"])),
        price_gross=Decimal(str(doc["price_gross"])),
        vat_rate=Decimal(str(doc["vat_rate"])),
        currency=doc["currency"],
        discontinued=bool(doc.get("discontinued", False)),
    )


class MongoQuoteRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def add(self, quote: Quote) -> None:
        await self.tx.db[QUOTES].insert_one(quote_document(quote), session=self.tx.session)

    async def get(self, number: str) -> Quote | None:
        doc = await self.tx.db[QUOTES].find_one({"_id": number}, session=self.tx.session)
        return None if doc is None else quote_of(doc)

    async def save(self, quote: Quote) -> None:
        await self.tx.db[QUOTES].replace_one(
            {"_id": quote.number}, quote_document(quote), session=self.tx.session
        )

    async def due_to_expire(self, now: datetime, limit: int) -> list[str]:
        cursor = (
            self.tx.db[QUOTES]
            .find(
                {"state": "open", "expires_at": {"$lte": now}},
                {"_id": 1},
                session=self.tx.session,
            )
            .sort("expires_at", 1)
            .limit(limit)
        )
        return [doc["_id"] for doc in await cursor.to_list(None)]


class MongoQuoteCatalog:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def prices(self, skus: list[str]) -> dict[str, CatalogPrice]:
        docs = (
            await self.tx.db[QUOTE_CATALOG]
            .find({"_id": {"$in": skus}}, session=self.tx.session)
            .to_list(None)
        )
        found = (catalog_price(d) for d in docs)
        return {p.sku: p for p in found if p is not None}

    async def apply(self, sku: str, facts: Mapping[str, Any], occurred_at: datetime) -> None:
        await upsert_if_newer(
            self.tx.db[QUOTE_CATALOG],
            sku,
            facts,
            occurred_at=occurred_at,
            session=self.tx.session,
        )


class QuoteQueries:
    """The quotes' read side: one quote, a page of them (newest first)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def one(self, number: str) -> Quote | None:
        doc = await self.db[QUOTES].find_one({"_id": number})
        return None if doc is None else quote_of(doc)

    async def page(
        self,
        *,
        state: QuoteState | None,
        customer_email: str | None,
        page: int,
        page_size: int,
        created_after: datetime | None = None,
    ) -> tuple[list[Quote], int]:
        """``created_after``: only quotes made after it (a search for an erased buyer)."""
        query: Document = {}
        if created_after is not None:
            query["created_at"] = {"$gt": created_after}
        if state is not None:
            query["state"] = state
        if customer_email is not None:
            query["customer_email"] = email_search_key(customer_email)
        docs, total = await find_page(
            self.db[QUOTES],
            query,
            [("created_at", -1), ("_id", -1)],
            page=page,
            page_size=page_size,
        )
        return [quote_of(d) for d in docs], total


async def ensure_quote_indexes(db: AsyncDatabase[Document]) -> None:
    await db[QUOTES].create_index([("state", 1), ("expires_at", 1)], name="open_by_expiry")
    await db[QUOTES].create_index([("created_at", -1), ("_id", -1)], name="newest_first")
    await db[QUOTES].create_index("customer_email", name="by_customer_email")


async def add_email_search_keys(store: Store) -> None:
    """Migration ``0701-quote-email-search-key``: ``customer_email`` on every quote made
    before it was kept (a rerun finds only those still without one)."""
    quotes = store.db[QUOTES]
    async for doc in quotes.find({"customer_email": {"$exists": False}}, {"buyer.email": 1}):
        key = email_search_key(str((doc.get("buyer") or {}).get("email") or ""))
        await quotes.update_one({"_id": doc["_id"]}, {"$set": {"customer_email": key}})
