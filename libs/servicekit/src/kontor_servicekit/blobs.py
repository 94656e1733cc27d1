"""Uploaded images and their bytes: the upload check, a GridFS blob store, the response.

Shared by the catalog (product images) and orders (complaint photos), so both judge
an upload the same way and serve the bytes with the same headers:

- :func:`read_image_upload` reads a multipart upload up to one byte past the limit
  (a larger file is refused without being read to its end) and decodes the image,
  not trusting the file name, the Content-Type the client claims or the first bytes;
  the upload it returns holds a re-encoded copy without metadata
  (:func:`kontor_servicekit.images.decode_image`). :func:`read_file_upload` is the same
  for a file a person hands over (support's chat attachments): images that decode and
  PDFs, judged by their content, kept as sent (as a mail's attachment is).
- :class:`BlobStore` keeps the bytes in a GridFS bucket (``AsyncGridFSBucket``) of the
  service's own database. GridFS writes are not part of a transaction: a caller that
  registers a blob in a transaction deletes it again if the transaction fails.
- :func:`blob_response` serves stored bytes with their content type,
  ``X-Content-Type-Options: nosniff`` (a browser must not guess another type from
  the bytes) and a private day of caching (a blob's id names bytes that never change).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

from bson import ObjectId
from fastapi import Response, UploadFile
from gridfs import AsyncGridFSBucket, NoFile
from gridfs.errors import CorruptGridFile
from pymongo.asynchronous.database import AsyncDatabase

from kontor_servicekit.errors import PayloadTooLarge, UnprocessableEntity
from kontor_servicekit.images import (
    IMAGE_TYPES,
    MAX_IMAGE_BYTES,
    NotAnImage,
    decode_image,
    sniff_image_type,
)

__all__ = [
    "ATTACHMENT_TYPES",
    "IMAGE_RESPONSES",
    "SERVED_HEADERS",
    "Blob",
    "BlobStore",
    "BlobWriter",
    "StoredBlob",
    "Upload",
    "attachment_disposition",
    "blob_response",
    "file_type",
    "read_file_upload",
    "read_image_upload",
]

#: Headers of every served blob.
SERVED_HEADERS: Mapping[str, str] = {
    "Cache-Control": "private, max-age=86400",
    "X-Content-Type-Options": "nosniff",
}

#: The OpenAPI ``responses`` entry of a route that serves an image blob.
IMAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {media_type: {} for media_type in IMAGE_TYPES}}
}


@dataclass(frozen=True)
class Upload:
    """An accepted upload: its re-encoded bytes, their type, a file name."""

    data: bytes
    content_type: str
    filename: str

    @property
    def size(self) -> int:
        return len(self.data)


def _refused(message: str, field_name: str) -> UnprocessableEntity:
    return UnprocessableEntity(
        detail=message,
        errors=[{"loc": ["body", field_name], "msg": message, "type": "value_error"}],
    )


async def read_image_upload(
    file: UploadFile,
    *,
    what: str,
    default_name: str,
    max_bytes: int = MAX_IMAGE_BYTES,
    field_name: str = "file",
) -> Upload:
    """The upload if it is a JPEG, PNG or WebP image of at most ``max_bytes`` that decodes.

    ``what`` names one such file in the 413 detail ("an image", "a photo");
    ``default_name`` stands in for a missing file name. Refuses with 413
    (:class:`PayloadTooLarge`) or 422 (:class:`UnprocessableEntity` at
    ``["body", field_name]``: empty, not an image that decodes, too many pixels).
    The upload holds the re-encoded image, not the bytes sent.
    """
    data = await _read_limited(file, what=what, max_bytes=max_bytes, field_name=field_name)
    try:
        image = decode_image(data)
    except NotAnImage as exc:
        raise _refused(str(exc), field_name) from None
    return Upload(image.data, image.content_type, (file.filename or default_name)[:200])


async def _read_limited(file: UploadFile, *, what: str, max_bytes: int, field_name: str) -> bytes:
    """The upload's bytes, read to one byte past ``max_bytes`` at most (413 beyond), not empty."""
    data = await file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise PayloadTooLarge(detail=f"{what} may have at most {max_bytes} bytes")
    if not data:
        raise _refused("the file is empty", field_name)
    return data


#: What a person may attach to a conversation (support's chat): images and PDFs.
ATTACHMENT_TYPES: tuple[str, ...] = (*IMAGE_TYPES, "application/pdf")


def file_type(data: bytes, types: Sequence[str] = ATTACHMENT_TYPES) -> str | None:
    """The type of ``data`` judged by its content, if it is one of ``types``: an image
    that decodes (:func:`decode_image`, which also refuses bombs), a PDF that begins with
    ``%PDF-`` and has its ``%%EOF`` near the end; None for anything else."""
    if "application/pdf" in types and data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:]:
        return "application/pdf"
    claimed = sniff_image_type(data[:16])
    if claimed is None or claimed not in types:
        return None
    try:
        return decode_image(data).content_type
    except NotAnImage:
        return None


async def read_file_upload(
    file: UploadFile,
    *,
    what: str,
    default_name: str,
    max_bytes: int,
    types: Sequence[str] = ATTACHMENT_TYPES,
    field_name: str = "file",
) -> Upload:
    """The upload, kept as sent, if its content is one of ``types`` (:func:`file_type`)
    and it has at most ``max_bytes``: a file a person hands over (a chat's attachment,
    as a mail's) whose recipient wants it as it was; serve it with
    ``blob_response(download_as=...)``. Refuses with 413 or 422 at
    ``["body", field_name]`` (empty, a type not accepted, whatever its name says)."""
    data = await _read_limited(file, what=what, max_bytes=max_bytes, field_name=field_name)
    content_type = file_type(data, types)
    if content_type is None:
        raise _refused(
            f"not a file of an accepted type ({', '.join(types)}), judged by its content",
            field_name,
        )
    return Upload(data, content_type, (file.filename or default_name)[:200])


@dataclass(frozen=True)
class Blob:
    id: str
    data: bytes
    content_type: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredBlob:
    """A stored blob without its bytes: what a sweeper decides on."""

    id: str
    metadata: dict[str, Any]
    uploaded_at: datetime


def _object_id(blob_id: str) -> ObjectId | None:
    return ObjectId(blob_id) if ObjectId.is_valid(blob_id) else None


class BlobStore:
    """Bytes in the GridFS bucket ``bucket`` of ``db``; ids are ObjectId strings."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], bucket: str) -> None:
        self.db = db
        self.bucket = bucket
        self._files = AsyncGridFSBucket(db, bucket_name=bucket)

    async def put(
        self,
        data: bytes,
        *,
        filename: str,
        content_type: str,
        metadata: Mapping[str, Any] | None = None,
    ) -> str:
        """Store ``data``; its content type is kept in the file's metadata. Returns the id."""
        file_id = await self._files.upload_from_stream(
            filename, data, metadata={"content_type": content_type, **(metadata or {})}
        )
        return str(file_id)

    async def get(self, blob_id: str) -> Blob | None:
        """The blob, or None if ``blob_id`` is no id, names no stored file or one whose
        delete has begun (its chunks go first)."""
        oid = _object_id(blob_id)
        if oid is None:
            return None
        try:
            stream = await self._files.open_download_stream(oid)
            data = await stream.read()
        except (NoFile, CorruptGridFile):  # none, or its chunks already deleted
            return None
        metadata = dict(stream.metadata or {})
        content_type = str(metadata.get("content_type", "application/octet-stream"))
        return Blob(blob_id, data, content_type, metadata)

    async def exists(self, blob_ids: Sequence[str]) -> list[bool]:
        """For each id in ``blob_ids``, in order: whether it names a stored blob."""
        wanted = [_object_id(blob_id) for blob_id in blob_ids]
        valid = [oid for oid in wanted if oid is not None]
        known: set[ObjectId] = set()
        if valid:
            found = self.db[f"{self.bucket}.files"].find({"_id": {"$in": valid}}, {"_id": 1})
            known = {doc["_id"] for doc in await found.to_list(None)}
        return [oid is not None and oid in known for oid in wanted]

    async def listing(self, *, after: str | None = None, limit: int = 500) -> list[StoredBlob]:
        """Up to ``limit`` stored blobs (ids, metadata, upload times; not the bytes) in id
        order, those after the id ``after``: page on with the last one's id."""
        query: dict[str, Any] = {}
        oid = None if after is None else _object_id(after)
        if oid is not None:
            query["_id"] = {"$gt": oid}
        found = self.db[f"{self.bucket}.files"].find(
            query, {"_id": 1, "metadata": 1, "uploadDate": 1}, sort=[("_id", 1)], limit=limit
        )
        return [
            StoredBlob(str(doc["_id"]), dict(doc.get("metadata") or {}), doc["uploadDate"])
            for doc in await found.to_list(None)
        ]

    async def delete(self, blob_id: str) -> None:
        """Remove the blob; an unknown id is no error.

        The chunks go first and the file's document last (GridFS's own ``delete`` does
        it the other way round): a delete cut off half-way leaves a document that still
        names the blob, so the sweep that finds it deletes it again, and never bytes
        that no document names and nothing would ever find (a complaint photo is
        personal data: it must not outlive its retention that way)."""
        oid = _object_id(blob_id)
        if oid is None:
            return
        await self.db[f"{self.bucket}.chunks"].delete_many({"files_id": oid})
        await self.db[f"{self.bucket}.files"].delete_one({"_id": oid})


def blob_response(blob: Blob, *, download_as: str | None = None) -> Response:
    """The blob's bytes with its content type and :data:`SERVED_HEADERS`.

    ``download_as``: a file someone else sent (a mail's attachment) that the browser must
    save under that name and never render in the shop's origin: ``Content-Disposition:
    attachment`` and a sandboxing ``Content-Security-Policy``."""
    headers = dict(SERVED_HEADERS)
    if download_as is not None:
        headers["Content-Disposition"] = attachment_disposition(download_as)
        headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return Response(content=blob.data, media_type=blob.content_type, headers=headers)


def attachment_disposition(filename: str) -> str:
    """``attachment`` with an ASCII ``filename`` and the exact name as ``filename*``
    (RFC 6266, RFC 8187), whatever quotes, slashes or control characters it holds."""
    name = "".join(ch for ch in filename if ch.isprintable() and ch not in "/\\") or "file"
    ascii_name = (
        "".join(ch if ch.isascii() and ch not in '"%;' else "_" for ch in name).strip() or "file"
    )
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


class BlobWriter(Protocol):
    """What a use case needs of a blob store: :class:`BlobStore` in production, a dict in
    the unit tests. Put the bytes before the unit of work that registers them; delete
    them again if that unit of work fails."""

    async def put(
        self,
        data: bytes,
        *,
        filename: str,
        content_type: str,
        metadata: Mapping[str, Any] | None = None,
    ) -> str: ...

    async def delete(self, blob_id: str) -> None: ...
