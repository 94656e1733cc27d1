"""Product images: the bytes in GridFS (bucket ``product_images``), their order in a collection."""

from __future__ import annotations

from typing import Any

from kontor_servicekit.blobs import BlobStore
from kontor_servicekit.store import Transaction
from pymongo.asynchronous.database import AsyncDatabase

from kontor_catalog.domain.images import ProductImage

IMAGES = "product_images"
BUCKET = "product_images"


def blobs(db: AsyncDatabase[dict[str, Any]]) -> BlobStore:
    return BlobStore(db, BUCKET)


def to_document(image: ProductImage) -> dict[str, Any]:
    return {
        "_id": image.id,
        "sku": image.sku,
        "position": image.position,
        "content_type": image.content_type,
        "size": image.size,
        "filename": image.filename,
        "alt": image.alt,
        "uploaded_at": image.uploaded_at,
    }


def from_document(doc: dict[str, Any]) -> ProductImage:
    return ProductImage(
        id=doc["_id"],
        sku=doc["sku"],
        position=doc["position"],
        content_type=doc["content_type"],
        size=doc["size"],
        filename=doc.get("filename") or "image",
        alt=doc.get("alt"),
        uploaded_at=doc["uploaded_at"],
    )


class MongoImageRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.images = tx.db[IMAGES]

    async def of(self, sku: str) -> list[ProductImage]:
        cursor = self.images.find({"sku": sku}, session=self.tx.session).sort("position", 1)
        return [from_document(doc) async for doc in cursor]

    async def add(self, image: ProductImage) -> None:
        await self.images.insert_one(to_document(image), session=self.tx.session)

    async def save(self, image: ProductImage) -> None:
        await self.images.update_one(
            {"_id": image.id}, {"$set": {"position": image.position}}, session=self.tx.session
        )

    async def remove(self, image_id: str) -> None:
        await self.images.delete_one({"_id": image_id}, session=self.tx.session)
