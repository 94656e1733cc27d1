"""Use cases of product images: register an uploaded image after its bytes are stored,
remove one, put them in another order.

The bytes go to a blob store first (GridFS writes are not part of a transaction);
the image is then registered, with the next position of the product, in a unit of
work. If that fails, the bytes are deleted again: no registered image lacks its
bytes. Removing goes the other way round: the registration first, then the bytes.
Images are in no event (the product's events do not carry them), so these changes
announce nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from kontor_servicekit.blobs import BlobWriter, Upload
from kontor_servicekit.clock import Clock
from kontor_servicekit.uow import Transactor

from kontor_catalog.application.unit_of_work import CatalogUnitOfWork
from kontor_catalog.domain.errors import UnknownProduct
from kontor_catalog.domain.images import ProductImage, arranged, without

#: Where the bytes of images are kept (GridFS in production): the kit's protocol.
ImageBlobs = BlobWriter


async def add_image(
    transactor: Transactor[CatalogUnitOfWork],
    blobs: ImageBlobs,
    *,
    sku: str,
    upload: Callable[[], Awaitable[Upload]],
    alt: str | None,
    clock: Clock,
    lookup: Transactor[CatalogUnitOfWork] | None = None,
) -> ProductImage:
    """Store an image of product ``sku`` as its last one.

    ``upload`` reads and checks the file; it is read only for a product that exists
    (looked up with ``lookup``, by default ``transactor``: a route that renders its
    answer in ``transactor``'s one write passes its plain transactor here).
    """

    async def product_exists(uow: CatalogUnitOfWork) -> bool:
        return await uow.products.exists(sku)

    if not await (lookup or transactor).run(product_exists):
        raise UnknownProduct(sku)
    image = await upload()
    blob_id = await blobs.put(
        image.data, filename=image.filename, content_type=image.content_type, metadata={"sku": sku}
    )

    async def register(uow: CatalogUnitOfWork) -> ProductImage:
        if not await uow.products.exists(sku):
            raise UnknownProduct(sku)
        registered = ProductImage(
            id=blob_id,
            sku=sku,
            position=await uow.next_sequence(f"image-position:{sku}"),
            content_type=image.content_type,
            size=image.size,
            filename=image.filename,
            alt=alt,
            uploaded_at=clock(),
        )
        await uow.images.add(registered)
        return registered

    try:
        return await transactor.run(register)
    except BaseException:
        await blobs.delete(blob_id)
        raise


async def remove_image(
    transactor: Transactor[CatalogUnitOfWork], blobs: ImageBlobs, *, sku: str, image_id: str
) -> list[ProductImage]:
    """Remove image ``image_id`` of ``sku``; the others move up. Answers those left."""

    async def unregister(uow: CatalogUnitOfWork) -> list[ProductImage]:
        if not await uow.products.exists(sku):
            raise UnknownProduct(sku)
        left = without(await uow.images.of(sku), sku, image_id)
        await uow.images.remove(image_id)
        for image in left:
            await uow.images.save(image)
        return left

    left = await transactor.run(unregister)
    # after the commit: a failure here leaves unreferenced bytes, never a broken image
    await blobs.delete(image_id)
    return left


async def reorder_images(
    transactor: Transactor[CatalogUnitOfWork], *, sku: str, image_ids: list[str]
) -> list[ProductImage]:
    """Put the images of ``sku`` in the order of ``image_ids`` (each of them once)."""

    async def work(uow: CatalogUnitOfWork) -> list[ProductImage]:
        if not await uow.products.exists(sku):
            raise UnknownProduct(sku)
        ordered = arranged(await uow.images.of(sku), image_ids)
        for image in ordered:
            await uow.images.save(image)
        return ordered

    return await transactor.run(work)
