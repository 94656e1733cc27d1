"""The category tree in the catalog's database: each category with its parent and path."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kontor_servicekit.store import Transaction
from pymongo.errors import DuplicateKeyError

from kontor_catalog.domain.category import Category, CategoryTaken

CATEGORIES = "categories"


def to_document(category: Category) -> dict[str, Any]:
    return {
        "_id": category.id,
        "name": category.name,
        "name_en": category.name_en,
        "parent_id": category.parent_id,
        "path": list(category.path),
        "created_at": category.created_at,
    }


def from_document(doc: dict[str, Any]) -> Category:
    return Category(
        id=doc["_id"],
        name=doc["name"],
        name_en=doc.get("name_en"),
        parent_id=doc.get("parent_id"),
        path=tuple(doc["path"]),
        created_at=doc["created_at"],
    )


class MongoCategoryRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.categories = tx.db[CATEGORIES]

    async def get(self, category_id: str) -> Category | None:
        doc = await self.categories.find_one({"_id": category_id}, session=self.tx.session)
        return None if doc is None else from_document(doc)

    async def add(self, category: Category) -> None:
        try:
            await self.categories.insert_one(to_document(category), session=self.tx.session)
        except DuplicateKeyError as exc:
            raise CategoryTaken(category.id) from exc

    async def missing(self, ids: Sequence[str]) -> list[str]:
        cursor = self.categories.find(
            {"_id": {"$in": list(ids)}}, {"_id": 1}, session=self.tx.session
        )
        found = {doc["_id"] async for doc in cursor}
        return [category_id for category_id in ids if category_id not in found]
