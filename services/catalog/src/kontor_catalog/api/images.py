"""HTTP routes of product images: upload (multipart), ordered list, the bytes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Request, Response, UploadFile, status
from kontor_servicekit.auth import require_scope
from kontor_servicekit.blobs import IMAGE_RESPONSES, blob_response, read_image_upload
from kontor_servicekit.clock import utc_now
from kontor_servicekit.errors import NotFound, problem_responses
from pydantic import BaseModel, Field

from kontor_catalog.store.images import ProductMissing, image_blob, images_of, store_image
from kontor_catalog.store.products import get_product

router = APIRouter(tags=["images"])

SkuPath = Annotated[str, Path(min_length=1, max_length=64, examples=["TEE-RED-M"])]


class ImageOut(BaseModel):
    id: str
    position: int = Field(description="1 = first image (upload order)")
    content_type: str = Field(examples=["image/jpeg"])
    size: int = Field(description="Bytes")
    alt: str | None
    url: str = Field(examples=["/products/TEE-RED-M/images/6747a1c2e4b0a1b2c3d4e5f6"])

    @classmethod
    def of(cls, doc: dict[str, Any]) -> ImageOut:
        return cls(
            id=doc["_id"],
            position=doc["position"],
            content_type=doc["content_type"],
            size=doc["size"],
            alt=doc.get("alt"),
            url=f"/products/{doc['sku']}/images/{doc['_id']}",
        )


@router.post(
    "/products/{sku}/images",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_scope("catalog:write"))],
    responses=problem_responses(401, 403, 404, 413, 422),
    summary="Upload an image (multipart field 'file'; JPEG, PNG or WebP, at most 5 MiB)",
    description="The type is read from the file's first bytes, not from its name or the "
    "Content-Type the client sent. Images are listed in upload order.",
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "examples": {
                        "photo": {
                            "summary": "A product photo",
                            "value": {"file": "(binary JPEG)", "alt": "T-Shirt rot, Vorderseite"},
                        }
                    }
                }
            }
        }
    },
)
async def post_image(
    request: Request,
    sku: SkuPath,
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP, at most 5 MiB")],
    alt: Annotated[str | None, Form(max_length=300, description="Alternative text")] = None,
) -> ImageOut:
    store = request.app.state.kit.store
    if await get_product(store.db, sku) is None:
        raise NotFound(detail=f"no product with SKU {sku!r}")
    upload = await read_image_upload(file, what="an image", default_name="image")
    try:
        doc = await store_image(store, sku=sku, upload=upload, alt=alt, now=utc_now())
    except ProductMissing as exc:
        raise NotFound(detail=f"no product with SKU {sku!r}") from exc
    return ImageOut.of(doc)


@router.get(
    "/products/{sku}/images",
    dependencies=[Depends(require_scope("catalog:read"))],
    responses=problem_responses(401, 403, 404),
    summary="The images of a product, in order",
)
async def list_images(request: Request, sku: SkuPath) -> list[ImageOut]:
    db = request.app.state.kit.store.db
    if await get_product(db, sku) is None:
        raise NotFound(detail=f"no product with SKU {sku!r}")
    return [ImageOut.of(doc) for doc in await images_of(db, sku)]


@router.get(
    "/products/{sku}/images/{image_id}",
    dependencies=[Depends(require_scope("catalog:read"))],
    responses={**IMAGE_RESPONSES, **problem_responses(401, 403, 404)},
    response_class=Response,
    summary="The image's bytes with their content type",
)
async def read_image(
    request: Request,
    sku: SkuPath,
    image_id: Annotated[str, Path(max_length=64, examples=["6747a1c2e4b0a1b2c3d4e5f6"])],
) -> Response:
    blob = await image_blob(request.app.state.kit.store.db, sku, image_id)
    if blob is None:
        raise NotFound(detail=f"no image {image_id!r} of {sku!r}")
    return blob_response(blob)
