"""Catalog images and orders' complaint photos: judged by decoding them (Pillow), kept as
a re-encoded copy. Before (issue 9) both accepted any bytes that began like an image:
a PNG signature followed by HTML, a 15-byte "PNG"."""

from __future__ import annotations

import io
from typing import Any

import pytest
from kontor_contracts.samples import PRODUCT
from kontor_servicekit.testing import sample_image
from PIL import Image

pytestmark = pytest.mark.security

HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


def bomb() -> bytes:
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")  # 100 megapixels in ~12 kB
    return out.getvalue()


FORGERIES = {
    "PNG signature + HTML": b"\x89PNG\r\n\x1a\n" + HTML,
    "15-byte PNG": b"\x89PNG\r\n\x1a\n1234567",
    "JPEG signature + HTML": b"\xff\xd8\xff\xe0" + HTML,
    "WebP header + HTML": b"RIFF\x24\x00\x00\x00WEBPVP8 " + HTML,
    "truncated PNG": sample_image("image/png", (64, 64))[:60],
    "decompression bomb": bomb(),
}

ROUTES = {
    "catalog": "/products/TEE-RED-M/images",
    "orders": "/complaint-photos",
}
BUCKETS = {"catalog": "product_images.files", "orders": "complaint_photos.files"}


@pytest.mark.parametrize("service_name", sorted(ROUTES))
async def test_forged_images_are_refused_naming_the_field_and_nothing_is_stored(
    service_name: str, start_service: Any
) -> None:
    async with start_service(service_name) as service:
        client = service.client
        if service_name == "catalog":
            assert (await client.post("/products", json=PRODUCT)).status_code == 201
        files = service.kit.store.db[BUCKETS[service_name]]
        for what, data in FORGERIES.items():
            refused = await client.post(
                ROUTES[service_name], files={"file": ("photo.png", data, "image/png")}
            )
            assert refused.status_code == 422, (what, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
            assert [e["loc"] for e in refused.json()["errors"]] == [["body", "file"]], what
        assert await files.count_documents({}) == 0

        sent = sample_image("image/jpeg", (6, 4), comment="GPS 52.52,13.40")
        accepted = await client.post(
            ROUTES[service_name], files={"file": ("p.jpg", sent + HTML, "image/jpeg")}
        )
        assert accepted.status_code == 201, accepted.text
        body = accepted.json()
        url = body.get("url") or f"{ROUTES[service_name]}/{body['id']}"
        served = await client.get(url)
        assert served.headers["content-type"] == "image/jpeg"
        assert served.headers["x-content-type-options"] == "nosniff"
        assert b"GPS" not in served.content and b"<html>" not in served.content
        assert Image.open(io.BytesIO(served.content)).size == (6, 4)
