"""Product images: the bytes in GridFS (bucket ``product_images``), their order in a collection.

GridFS writes are not part of a transaction: the bytes are uploaded first, then the
image is registered (with its position) in a transaction; if that fails, the upload is
deleted again, so no registered image lacks its bytes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kontor_servicekit.blobs import Blob, BlobStore, Upload
from kontor_servicekit.store import Store, Transaction
from pymongo.asynchronous.database import AsyncDatabase

from kontor_catalog.store.products import PRODUCTS

IMAGES = "product_images"
BUCKET = "product_images"


class ProductMissing(LookupError):
    pass


def blobs(db: AsyncDatabase[dict[str, Any]]) -> BlobStore:
    return BlobStore(db, BUCKET)


async def store_image(
    store: Store,
    *,
    sku: str,
    upload: Upload,
    alt: str | None,
    now: datetime,
) -> dict[str, Any]:
    files = blobs(store.db)
    file_id = await files.put(
        upload.data,
        filename=upload.filename,
        content_type=upload.content_type,
        metadata={"sku": sku},
    )

    async def work(tx: Transaction) -> dict[str, Any]:
        if await tx.db[PRODUCTS].find_one({"_id": sku}, {"_id": 1}, session=tx.session) is None:
            raise ProductMissing(sku)
        doc = {
            "_id": file_id,
            "sku": sku,
            "position": await tx.next_sequence(f"image-position:{sku}"),
            "content_type": upload.content_type,
            "size": upload.size,
            "filename": upload.filename,
            "alt": alt,
            "uploaded_at": now,
        }
        await tx.db[IMAGES].insert_one(doc, session=tx.session)
        return doc

    try:
        return await store.transaction(work)
    except BaseException:
        await files.delete(file_id)
        raise


async def images_of(db: AsyncDatabase[dict[str, Any]], sku: str) -> list[dict[str, Any]]:
    return await db[IMAGES].find({"sku": sku}).sort("position", 1).to_list()


async def image_blob(db: AsyncDatabase[dict[str, Any]], sku: str, image_id: str) -> Blob | None:
    """The bytes of image ``image_id`` if it is registered as an image of ``sku``."""
    if await db[IMAGES].find_one({"_id": image_id, "sku": sku}, {"_id": 1}) is None:
        return None
    return await blobs(db).get(image_id)


async def ensure_image_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[IMAGES].create_index([("sku", 1), ("position", 1)], name="sku_position")
