"""The order service's read model of the catalog, fed by catalog events.

Each event tells part of a product (its fields are merged in: prices, name, weight,
and the ``categories`` and ``parent_sku`` coupon restrictions ask for); the newest event
wins (:func:`kontor_servicekit.projections.upsert_if_newer`), so an older event
that arrives late changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from kontor_servicekit.projections import upsert_if_newer
from kontor_servicekit.store import Transaction

from kontor_orders.domain.coupons import Article
from kontor_orders.domain.order import PricedProduct

CATALOG_PRODUCTS = "catalog_products"


def priced_product(doc: Mapping[str, Any]) -> PricedProduct | None:
    """The product a document describes; None if no price is known yet."""
    if "price_net" not in doc:
        return None
    return PricedProduct(
        sku=doc["_id"],
        name=doc.get("name", doc["_id"]),
        price_net=Decimal(str(doc["price_net"])),
        vat_rate=Decimal(str(doc["vat_rate"])),
        currency=doc["currency"],
        discontinued=doc.get("discontinued", False),
        weight_grams=doc.get("weight_grams"),
        has_variants=doc.get("has_variants", False),
        # the displayed gross the catalog announced (documents before it: from the net)
        price_gross=None if doc.get("price_gross") is None else Decimal(str(doc["price_gross"])),
    )


def parents_wanted(docs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The parents whose categories the variants among ``docs`` take (they have none)."""
    return sorted(
        {d["parent_sku"] for d in docs.values() if d.get("parent_sku") and not d.get("categories")}
    )


def articles_of(
    docs: Mapping[str, Mapping[str, Any]], parents: Mapping[str, Mapping[str, Any]]
) -> dict[str, Article]:
    """The articles ``docs`` describe; a variant without categories takes its parent's."""
    articles = {}
    for sku, doc in docs.items():
        parent = doc.get("parent_sku")
        categories = doc.get("categories") or (parents.get(parent or "") or {}).get("categories")
        articles[sku] = Article(sku, parent, frozenset(categories or ()))
    return articles


class MongoCatalogProducts:
    """``CatalogProducts`` inside one Mongo transaction."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def priced(self, skus: list[str]) -> dict[str, PricedProduct]:
        docs = (
            await self.tx.db[CATALOG_PRODUCTS]
            .find({"_id": {"$in": skus}}, session=self.tx.session)
            .to_list(None)
        )
        found = (priced_product(d) for d in docs)
        return {p.sku: p for p in found if p is not None}

    async def _docs(self, skus: list[str]) -> dict[str, dict[str, Any]]:
        found = self.tx.db[CATALOG_PRODUCTS].find({"_id": {"$in": skus}}, session=self.tx.session)
        return {d["_id"]: d for d in await found.to_list(None)}

    async def articles(self, skus: list[str]) -> dict[str, Article]:
        docs = await self._docs(skus)
        return articles_of(docs, await self._docs(parents_wanted(docs)))

    async def mark_parent(self, sku: str) -> None:
        await self.tx.db[CATALOG_PRODUCTS].update_one(
            {"_id": sku}, {"$set": {"has_variants": True}}, upsert=True, session=self.tx.session
        )

    async def apply(self, sku: str, facts: Mapping[str, Any], occurred_at: datetime) -> None:
        await upsert_if_newer(
            self.tx.db[CATALOG_PRODUCTS],
            sku,
            facts,
            occurred_at=occurred_at,
            session=self.tx.session,
        )
