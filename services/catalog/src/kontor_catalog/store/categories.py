"""The category tree: each category knows its parent and the path of its ancestors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kontor_servicekit.store import Transaction
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

CATEGORIES = "categories"


class CategoryTaken(Exception):
    pass


class UnknownCategory(LookupError):
    def __init__(self, category_id: str) -> None:
        super().__init__(f"no category {category_id!r}")
        self.category_id = category_id


async def add_category(
    tx: Transaction,
    *,
    category_id: str,
    name: str,
    name_en: str | None,
    parent_id: str | None,
    now: datetime,
) -> dict[str, Any]:
    path: list[str] = []
    if parent_id is not None:
        parent = await tx.db[CATEGORIES].find_one({"_id": parent_id}, session=tx.session)
        if parent is None:
            raise UnknownCategory(parent_id)
        path = [*parent["path"], parent_id]
    doc = {
        "_id": category_id,
        "name": name,
        "name_en": name_en,
        "parent_id": parent_id,
        "path": path,
        "created_at": now,
    }
    try:
        await tx.db[CATEGORIES].insert_one(doc, session=tx.session)
    except DuplicateKeyError as exc:
        raise CategoryTaken(f"a category {category_id!r} exists already") from exc
    return doc


async def missing_categories(tx: Transaction, ids: list[str]) -> list[str]:
    cursor = tx.db[CATEGORIES].find({"_id": {"$in": ids}}, {"_id": 1}, session=tx.session)
    found = {doc["_id"] async for doc in cursor}
    return [category_id for category_id in ids if category_id not in found]


async def subtree(db: AsyncDatabase[dict[str, Any]], category_id: str) -> list[str]:
    """The category and all its descendants (empty if it does not exist)."""
    if await db[CATEGORIES].find_one({"_id": category_id}, {"_id": 1}) is None:
        return []
    below = [doc["_id"] async for doc in db[CATEGORIES].find({"path": category_id}, {"_id": 1})]
    return [category_id, *below]


async def list_categories(db: AsyncDatabase[dict[str, Any]]) -> list[dict[str, Any]]:
    return await db[CATEGORIES].find().sort([("path", 1), ("_id", 1)]).to_list()


async def get_category(
    db: AsyncDatabase[dict[str, Any]], category_id: str
) -> dict[str, Any] | None:
    return await db[CATEGORIES].find_one({"_id": category_id})


async def ensure_category_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[CATEGORIES].create_index("path", name="path")
    await db[CATEGORIES].create_index("parent_id", name="parent_id")
