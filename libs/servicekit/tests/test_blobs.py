"""Uploads judged by decoding them, the GridFS blob store, and how blobs are served.

The store tests need the session's MongoDB-protocol server (``infra``); each has its
own database.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import UploadFile
from kontor_servicekit.blobs import (
    IMAGE_RESPONSES,
    Blob,
    BlobStore,
    attachment_disposition,
    blob_response,
    file_type,
    read_file_upload,
    read_image_upload,
)
from kontor_servicekit.errors import PayloadTooLarge, UnprocessableEntity
from kontor_servicekit.images import decode_image
from kontor_servicekit.store import create_client
from kontor_servicekit.testing import sample_image
from pymongo import monitoring

JPEG = sample_image("image/jpeg")
PNG = sample_image("image/png")
WEBP = sample_image("image/webp")


class CountingFile(io.BytesIO):
    """A spooled upload that remembers how much was asked of it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.asked: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.asked.append(-1 if size is None else size)
        return super().read(size)


def upload(data: bytes, filename: str | None = "x.bin") -> UploadFile:
    return UploadFile(file=io.BytesIO(data), filename=filename)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("data", "content_type"),
    [(JPEG, "image/jpeg"), (PNG, "image/png"), (WEBP, "image/webp")],
)
async def test_the_bytes_decide_the_type_not_the_name(data: bytes, content_type: str) -> None:
    accepted = await read_image_upload(upload(data, "lies.gif"), what="an image", default_name="i")
    assert accepted.content_type == content_type
    assert accepted.data == decode_image(data).data  # the re-encoded copy is kept
    assert accepted.size == len(accepted.data)
    assert accepted.filename == "lies.gif"


@pytest.mark.unit
async def test_a_missing_name_is_replaced_and_a_long_one_cut() -> None:
    unnamed = await read_image_upload(upload(JPEG, None), what="a photo", default_name="photo")
    assert unnamed.filename == "photo"
    long = await read_image_upload(upload(JPEG, "a" * 300), what="a photo", default_name="photo")
    assert long.filename == "a" * 200


@pytest.mark.unit
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"GIF89a" + bytes(50), "not a JPEG, PNG or WebP image (judged by its content)"),
        (b"hello", "not a JPEG, PNG or WebP image (judged by its content)"),
        # issue 9: a signature followed by HTML, or a 15-byte "PNG", were accepted
        (
            b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>",
            "not a JPEG, PNG or WebP image that decodes",
        ),
        (
            b"\x89PNG\r\n\x1a\n1234567",
            "not a JPEG, PNG or WebP image that decodes",
        ),
        (JPEG[:-60], "not a JPEG, PNG or WebP image that decodes"),
    ],
)
async def test_empty_or_foreign_bytes_are_refused_at_the_field(data: bytes, message: str) -> None:
    with pytest.raises(UnprocessableEntity) as refused:
        await read_image_upload(upload(data), what="an image", default_name="i", field_name="pic")
    assert refused.value.detail == message
    assert [(e["loc"], e["msg"]) for e in refused.value.errors] == [(["body", "pic"], message)]


@pytest.mark.unit
async def test_the_limit_is_inclusive_and_a_larger_file_is_not_read_to_its_end() -> None:
    exactly = JPEG + bytes(1000 - len(JPEG))  # trailing bytes after the image's end
    accepted = await read_image_upload(
        upload(exactly), what="a photo", default_name="p", max_bytes=1000
    )
    assert accepted.data == decode_image(JPEG).data  # the trailer is not kept

    spooled = CountingFile(exactly + bytes(10_000))
    with pytest.raises(PayloadTooLarge) as refused:
        await read_image_upload(
            UploadFile(file=spooled, filename="big.jpg"),
            what="a photo",
            default_name="p",
            max_bytes=1000,
        )
    assert refused.value.detail == "a photo may have at most 1000 bytes"
    assert spooled.asked == [1001]


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.mark.unit
async def test_a_handed_over_file_is_kept_as_sent_and_typed_by_its_content() -> None:
    commented = sample_image("image/png", comment="taken at home")
    kept = await read_file_upload(
        upload(commented, "photo.pdf"), what="an attachment", default_name="a", max_bytes=10_000
    )
    assert (kept.data, kept.content_type, kept.filename) == (commented, "image/png", "photo.pdf")
    pdf = await read_file_upload(
        upload(PDF, None), what="an attachment", default_name="file", max_bytes=10_000
    )
    assert (pdf.content_type, pdf.filename, pdf.size) == ("application/pdf", "file", len(PDF))
    assert file_type(PDF, ("image/png",)) is None  # only the types asked for
    assert file_type(JPEG) == "image/jpeg" and file_type(WEBP) == "image/webp"


@pytest.mark.unit
@pytest.mark.parametrize(
    "data",
    [
        b"<html><script>alert(1)</script></html>",
        b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>",  # a PNG in name only
        b"%PDF-1.4 no end",
        b"GIF89a" + bytes(20),
    ],
)
async def test_a_handed_over_file_of_another_type_is_refused_at_the_field(data: bytes) -> None:
    with pytest.raises(UnprocessableEntity) as refused:
        await read_file_upload(upload(data), what="an attachment", default_name="a", max_bytes=999)
    [error] = refused.value.errors
    assert error["loc"] == ["body", "file"] and "accepted type" in error["msg"]


@pytest.mark.unit
async def test_a_handed_over_file_over_the_limit_is_refused_unread() -> None:
    spooled = CountingFile(PDF + bytes(10_000))
    with pytest.raises(PayloadTooLarge) as refused:
        await read_file_upload(
            UploadFile(file=spooled, filename="big.pdf"),
            what="an attachment",
            default_name="a",
            max_bytes=len(PDF),
        )
    assert refused.value.detail == f"an attachment may have at most {len(PDF)} bytes"
    assert spooled.asked == [len(PDF) + 1]


@pytest.mark.unit
def test_a_served_blob_carries_its_type_nosniff_and_cache_headers() -> None:
    response = blob_response(Blob("6747a1c2e4b0a1b2c3d4e5f6", PNG, "image/png"))
    assert response.body == PNG
    assert response.media_type == "image/png"
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "private, max-age=86400"
    assert set(IMAGE_RESPONSES[200]["content"]) == {"image/jpeg", "image/png", "image/webp"}
    assert "content-disposition" not in response.headers  # an image of ours: shown inline


@pytest.mark.unit
def test_a_file_someone_sent_is_a_sandboxed_download_under_a_safe_name() -> None:
    served = blob_response(
        Blob("6747a1c2e4b0a1b2c3d4e5f6", b"<script>", "text/html"), download_as="a.html"
    )
    assert served.headers["content-disposition"].startswith('attachment; filename="a.html"')
    assert served.headers["content-security-policy"].startswith("sandbox")
    assert served.headers["x-content-type-options"] == "nosniff"
    assert attachment_disposition("Rechnung März.pdf") == (
        "attachment; filename=\"Rechnung M_rz.pdf\"; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf"
    )
    hostile = attachment_disposition('../x"; filename="evil.exe\r\nSet-Cookie: a=b')
    assert "\r" not in hostile and "\n" not in hostile and "/" not in hostile
    assert hostile.count('"') == 2  # one quoted ASCII name; the rest percent-encoded
    assert attachment_disposition("\x00") == "attachment; filename=\"file\"; filename*=UTF-8''file"


@pytest.fixture
async def blobs(infra: Any, namespace: str) -> AsyncIterator[BlobStore]:
    client = create_client(infra.mongo_url, app_name="kontor-servicekit-tests")
    db = client[f"{namespace}_blobs"]
    try:
        yield BlobStore(db, "pictures")
    finally:
        await client.drop_database(db.name)
        await client.close()


@pytest.mark.integration
async def test_put_then_get_returns_the_bytes_type_and_metadata(blobs: BlobStore) -> None:
    at = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    blob_id = await blobs.put(
        JPEG, filename="front.jpg", content_type="image/jpeg", metadata={"at": at}
    )
    blob = await blobs.get(blob_id)
    assert blob is not None
    assert (blob.id, blob.data, blob.content_type) == (blob_id, JPEG, "image/jpeg")
    assert blob.metadata == {"content_type": "image/jpeg", "at": at}
    files = await blobs.db["pictures.files"].find({}).to_list(None)
    assert [(str(f["_id"]), f["filename"], f["length"]) for f in files] == [
        (blob_id, "front.jpg", len(JPEG))
    ]


@pytest.mark.integration
async def test_unknown_and_malformed_ids_are_none_and_not_existing(blobs: BlobStore) -> None:
    stored = await blobs.put(PNG, filename="a.png", content_type="image/png")
    unknown = "6747a1c2e4b0a1b2c3d4e5f6"
    assert await blobs.get(unknown) is None
    assert await blobs.get("not-an-id") is None
    assert await blobs.get("") is None
    assert await blobs.exists([stored, unknown, "not-an-id", stored]) == [True, False, False, True]
    assert await blobs.exists(["nope"]) == [False]
    assert await blobs.exists([]) == []


@pytest.mark.integration
async def test_delete_removes_the_bytes_and_tolerates_unknown_ids(blobs: BlobStore) -> None:
    kept = await blobs.put(PNG, filename="kept.png", content_type="image/png")
    gone = await blobs.put(JPEG, filename="gone.jpg", content_type="image/jpeg")
    await blobs.delete(gone)
    await blobs.delete(gone)
    await blobs.delete("not-an-id")
    assert await blobs.get(gone) is None
    assert await blobs.exists([kept, gone]) == [True, False]
    assert await blobs.db["pictures.chunks"].count_documents({}) == 1


class Deletes(monitoring.CommandListener):
    """The collections ``delete`` commands went to, in the order they were sent."""

    def __init__(self) -> None:
        self.collections: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "delete":
            self.collections.append(str(event.command["delete"]))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.mark.integration
async def test_a_delete_takes_the_bytes_before_the_document_naming_them(
    infra: Any, namespace: str
) -> None:
    """What a delete cut off half-way leaves is a document a sweep still finds (and
    deletes again), never chunks that nothing names."""
    deletes = Deletes()
    client = create_client(infra.mongo_url, app_name="kontor-tests", event_listeners=[deletes])
    db = client[f"{namespace}_blob_order"]
    try:
        blobs = BlobStore(db, "pictures")
        blob_id = await blobs.put(JPEG, filename="half.jpg", content_type="image/jpeg")
        await blobs.delete(blob_id)
        assert deletes.collections == ["pictures.chunks", "pictures.files"]
        # the state a crash between the two leaves: the next delete finishes it
        again = await blobs.put(PNG, filename="again.png", content_type="image/png")
        await db["pictures.chunks"].delete_many({})
        assert await blobs.exists([again]) == [True]
        assert await blobs.get(again) is None  # half deleted: gone to a reader
        await blobs.delete(again)
        assert await db["pictures.files"].count_documents({}) == 0
    finally:
        await client.drop_database(db.name)
        await client.close()


@pytest.mark.integration
async def test_buckets_of_one_database_are_apart(blobs: BlobStore) -> None:
    other = BlobStore(blobs.db, "other")
    blob_id = await blobs.put(PNG, filename="a.png", content_type="image/png")
    assert await other.get(blob_id) is None
    assert await other.exists([blob_id]) == [False]
