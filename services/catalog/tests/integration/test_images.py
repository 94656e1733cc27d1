"""Product images: type from decoding, size limits, GridFS storage, order, bytes."""

from __future__ import annotations

from typing import Any

import pytest
from kontor_contracts.samples import PRODUCT
from kontor_servicekit.images import decode_image
from kontor_servicekit.testing import sample_image

pytestmark = pytest.mark.integration

PNG = sample_image("image/png")
JPEG = sample_image("image/jpeg")
WEBP = sample_image("image/webp")
GIF = b"GIF89a" + bytes(50)


async def _upload(
    catalog: Any, data: bytes, filename: str, content_type: str = "application/octet-stream"
) -> Any:
    return await catalog.client.post(
        "/products/TEE-RED-M/images",
        files={"file": (filename, data, content_type)},
        data={"alt": f"alt of {filename}"},
    )


async def test_images_are_stored_listed_in_order_and_served(start_service: Any) -> None:
    async with start_service("catalog") as catalog:
        assert (await catalog.client.post("/products", json=PRODUCT)).status_code == 201
        # the name and the claimed type lie; the bytes decide
        uploaded = []
        for data, name in ((JPEG, "front.png"), (PNG, "back.jpg"), (WEBP, "detail")):
            response = await _upload(catalog, data, name, "text/plain")
            assert response.status_code == 201, response.text
            uploaded.append(response.json())
        assert [i["content_type"] for i in uploaded] == ["image/jpeg", "image/png", "image/webp"]
        assert [i["position"] for i in uploaded] == [1, 2, 3]
        assert uploaded[0]["size"] == len(decode_image(JPEG).data)  # the re-encoded copy
        assert uploaded[0]["alt"] == "alt of front.png"

        listed = (await catalog.client.get("/products/TEE-RED-M/images")).json()
        assert listed == uploaded
        product = (await catalog.client.get("/products/TEE-RED-M")).json()
        assert product["images"] == uploaded

        for image, data in zip(uploaded, (JPEG, PNG, WEBP), strict=True):
            served = await catalog.client.get(image["url"])
            assert served.status_code == 200
            assert served.headers["content-type"] == image["content_type"]
            assert served.content == decode_image(data).data
            assert served.headers["x-content-type-options"] == "nosniff"
            assert served.headers["cache-control"] == "private, max-age=86400"
        files = catalog.kit.store.db["product_images.files"]
        assert await files.count_documents({}) == 3

        assert (await catalog.client.get("/products/TEE-RED-M/images/nope")).status_code == 404
        other = uploaded[0]["url"].replace("TEE-RED-M", "OTHER")
        assert (await catalog.client.get(other)).status_code == 404
        assert (await catalog.client.get("/products/NOPE/images")).status_code == 404


async def test_wrong_type_or_size_is_refused_and_nothing_is_stored(start_service: Any) -> None:
    async with start_service("catalog") as catalog:
        assert (await catalog.client.post("/products", json=PRODUCT)).status_code == 201
        signature_then_html = b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>"
        for data, name in (
            (GIF, "cat.png"),
            (b"hello", "photo.jpg"),
            (b"", "empty.png"),
            (signature_then_html, "page.png"),  # issue 9: accepted by its first bytes
            (b"\x89PNG\r\n\x1a\n1234567", "tiny.png"),  # a 15-byte "PNG"
        ):
            refused = await _upload(catalog, data, name, "image/png")
            assert refused.status_code == 422, name
            assert refused.json()["errors"][0]["loc"] == ["body", "file"]
        too_big = await _upload(catalog, JPEG + bytes(5 * 1024 * 1024), "huge.jpg")
        assert too_big.status_code == 413
        assert "5242880" in too_big.json()["detail"]
        exactly = await _upload(catalog, JPEG + bytes(5 * 1024 * 1024 - len(JPEG)), "max.jpg")
        assert exactly.status_code == 201, exactly.text
        missing_file = await catalog.client.post("/products/TEE-RED-M/images", data={"alt": "x"})
        assert missing_file.status_code == 422
        unknown = await catalog.client.post(
            "/products/NOPE/images", files={"file": ("a.jpg", JPEG, "image/jpeg")}
        )
        assert unknown.status_code == 404
        db = catalog.kit.store.db
        assert await db["product_images"].count_documents({}) == 1
        assert await db["product_images.files"].count_documents({}) == 1


async def test_image_upload_needs_the_write_scope(start_service: Any, auth_keys: Any) -> None:
    async with start_service("catalog") as catalog:
        assert (await catalog.client.post("/products", json=PRODUCT)).status_code == 201
        reader = {"Authorization": f"Bearer {auth_keys.token('catalog:read')}"}
        refused = await catalog.client.post(
            "/products/TEE-RED-M/images",
            files={"file": ("a.jpg", JPEG, "image/jpeg")},
            headers=reader,
        )
        assert refused.status_code == 403
        assert (await catalog.client.get("/products/TEE-RED-M/images", headers=reader)).json() == []


async def test_images_are_removed_with_their_bytes_and_reordered(start_service: Any) -> None:
    # issue 10 point 14: DELETE answered 405 and there was no way to reorder
    async with start_service("catalog") as catalog:
        assert (await catalog.client.post("/products", json=PRODUCT)).status_code == 201
        ids = []
        for data, name in ((JPEG, "front.jpg"), (PNG, "back.png"), (WEBP, "detail.webp")):
            response = await _upload(catalog, data, name)
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        front, back, detail = ids

        order = await catalog.client.put(
            "/products/TEE-RED-M/images/order", json={"image_ids": [detail, front, back]}
        )
        assert order.status_code == 200, order.text
        assert [(i["id"], i["position"]) for i in order.json()] == [
            (detail, 1),
            (front, 2),
            (back, 3),
        ]
        product = (await catalog.client.get("/products/TEE-RED-M")).json()
        assert [i["id"] for i in product["images"]] == [detail, front, back]
        partial = await catalog.client.put(
            "/products/TEE-RED-M/images/order", json={"image_ids": [detail, front]}
        )
        assert partial.status_code == 422
        assert partial.json()["errors"][0]["loc"] == ["body", "image_ids"]

        removed = await catalog.client.delete(f"/products/TEE-RED-M/images/{detail}")
        assert removed.status_code == 204, removed.text
        listed = (await catalog.client.get("/products/TEE-RED-M/images")).json()
        assert [(i["id"], i["position"]) for i in listed] == [(front, 1), (back, 2)]
        assert (await catalog.client.get(f"/products/TEE-RED-M/images/{detail}")).status_code == 404
        files = catalog.kit.store.db["product_images.files"]
        assert await files.count_documents({}) == 2
        again = await catalog.client.delete(f"/products/TEE-RED-M/images/{detail}")
        assert again.status_code == 404
        assert (await catalog.client.delete(f"/products/NOPE/images/{front}")).status_code == 404
