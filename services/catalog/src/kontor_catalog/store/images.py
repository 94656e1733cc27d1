"""Product images: the bytes in GridFS (bucket ``product_images``), their order in a collection.

GridFS writes are not part of a transaction: the bytes are uploaded first, then the
image is registered (with its position) in a transaction; if that fails, the upload is
deleted again, so no registered image lacks its bytes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId
from gridfs import AsyncGridFSBucket, NoFile
from kontor_servicekit.store import Store, Transaction
from pymongo.asynchronous.database import AsyncDatabase

from kontor_catalog.store.products import PRODUCTS

IMAGES = "product_images"
BUCKET = "product_images"


class ProductMissing(LookupError):
    pass


def bucket(db: AsyncDatabase[dict[str, Any]]) -> AsyncGridFSBucket:
    return AsyncGridFSBucket(db, bucket_name=BUCKET)


async def store_image(
    store: Store,
    *,
    sku: str,
    data: bytes,
    content_type: str,
    filename: str,
    alt: str | None,
    now: datetime,
) -> dict[str, Any]:
    files = bucket(store.db)
    file_id = await files.upload_from_stream(
        filename, data, metadata={"sku": sku, "content_type": content_type}
    )

    async def work(tx: Transaction) -> dict[str, Any]:
        if await tx.db[PRODUCTS].find_one({"_id": sku}, {"_id": 1}, session=tx.session) is None:
            raise ProductMissing(sku)
        doc = {
            "_id": str(file_id),
            "sku": sku,
            "position": await tx.next_sequence(f"image-position:{sku}"),
            "content_type": content_type,
            "size": len(data),
            "filename": filename,
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


async def image_bytes(
    db: AsyncDatabase[dict[str, Any]], sku: str, image_id: str
) -> tuple[dict[str, Any], bytes] | None:
    doc = await db[IMAGES].find_one({"_id": image_id, "sku": sku})
    if doc is None or not ObjectId.is_valid(image_id):
        return None
    try:
        stream = await bucket(db).open_download_stream(ObjectId(image_id))
    except NoFile:
        return None
    return doc, await stream.read()


async def ensure_image_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[IMAGES].create_index([("sku", 1), ("position", 1)], name="sku_position")
