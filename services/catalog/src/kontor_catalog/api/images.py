"""HTTP routes of product images: upload (multipart), ordered list, the bytes."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Response, UploadFile, status
from kontor_servicekit.auth import require_scope
from kontor_servicekit.blobs import IMAGE_RESPONSES, blob_response, read_image_upload
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, ConfigDict, Field

from kontor_catalog.application.images import add_image, remove_image, reorder_images
from kontor_catalog.context import Context
from kontor_catalog.domain.errors import UnknownProduct
from kontor_catalog.domain.images import ProductImage

router = APIRouter(tags=["images"])

SkuPath = Annotated[str, Path(min_length=1, max_length=64, examples=["TEE-RED-M"])]
ImageId = Annotated[str, Path(max_length=64, examples=["6747a1c2e4b0a1b2c3d4e5f6"])]


class ImageOut(BaseModel):
    id: str
    position: int = Field(
        description="Ascending: the first image has the lowest (upload order unless reordered)"
    )
    content_type: str = Field(examples=["image/jpeg"])
    size: int = Field(description="Bytes")
    alt: str | None
    url: str = Field(examples=["/products/TEE-RED-M/images/6747a1c2e4b0a1b2c3d4e5f6"])

    @classmethod
    def of(cls, image: ProductImage) -> ImageOut:
        return cls.model_validate(image.as_dict())


@router.post(
    "/products/{sku}/images",
    status_code=status.HTTP_201_CREATED,
    response_model=ImageOut,
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
    ctx: Context,
    sku: SkuPath,
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP, at most 5 MiB")],
    alt: Annotated[str | None, Form(max_length=300, description="Alternative text")] = None,
) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: add_image(
            transactor,
            ctx.blobs,
            sku=sku,
            upload=partial(read_image_upload, file, what="an image", default_name="image"),
            alt=alt,
            clock=ctx.clock,
            lookup=ctx.transactor,
        ),
        present=ImageOut.of,
        status_code=status.HTTP_201_CREATED,
    )


@router.get(
    "/products/{sku}/images",
    dependencies=[Depends(require_scope("catalog:read"))],
    responses=problem_responses(401, 403, 404),
    summary="The images of a product, in order",
)
async def list_images(ctx: Context, sku: SkuPath) -> list[ImageOut]:
    images = await ctx.images.of_product(sku)
    if images is None:
        raise UnknownProduct(sku)
    return [ImageOut.of(image) for image in images]


@router.get(
    "/products/{sku}/images/{image_id}",
    dependencies=[Depends(require_scope("catalog:read"))],
    responses={**IMAGE_RESPONSES, **problem_responses(401, 403, 404)},
    response_class=Response,
    summary="The image's bytes with their content type",
)
async def read_image(
    ctx: Context,
    sku: SkuPath,
    image_id: ImageId,
) -> Response:
    blob = await ctx.images.blob(sku, image_id)
    if blob is None:
        raise NotFound("image", image_id, message=f"no image {image_id!r} of {sku!r}")
    return blob_response(blob)


class ImageOrderIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"image_ids": ["6747a1c2e4b0a1b2c3d4e5f7", "6747a1c2e4b0a1b2c3d4e5f6"]}]
        },
    )
    image_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        max_length=100, description="Every image id of the product once, the first image first"
    )


@router.put(
    "/products/{sku}/images/order",
    response_model=list[ImageOut],
    dependencies=[Depends(require_scope("catalog:write"))],
    responses=problem_responses(401, 403, 404, 422),
    summary="Put the product's images in another order (the first becomes the main image)",
)
async def put_image_order(ctx: Context, sku: SkuPath, body: ImageOrderIn) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: reorder_images(transactor, sku=sku, image_ids=body.image_ids),
        present=lambda images: [ImageOut.of(image) for image in images],
    )


@router.delete(
    "/products/{sku}/images/{image_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Depends(require_scope("catalog:write"))],
    responses=problem_responses(401, 403, 404, 422),
    summary="Remove an image (registration and bytes); the images after it move up",
)
async def delete_image(ctx: Context, sku: SkuPath, image_id: ImageId) -> Response:
    await remove_image(ctx.transactor, ctx.blobs, sku=sku, image_id=image_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
