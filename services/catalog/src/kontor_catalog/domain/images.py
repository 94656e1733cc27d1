"""Product images: which image of a product is which, and in what order.

The bytes are kept elsewhere (a blob store); an image here is the registration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from kontor_servicekit.domain_errors import Invalid, NotFound


@dataclass(frozen=True)
class ProductImage:
    id: str
    """The id of its bytes in the blob store."""
    sku: str
    position: int
    """Ascending: the first image has the lowest (1 after a reorder or a removal)."""
    content_type: str
    size: int
    filename: str
    alt: str | None
    uploaded_at: datetime

    @property
    def url(self) -> str:
        return f"/products/{self.sku}/images/{self.id}"

    def as_dict(self) -> dict[str, Any]:
        """The image as it is shown (in a product and in its image list)."""
        return {
            "id": self.id,
            "position": self.position,
            "content_type": self.content_type,
            "size": self.size,
            "alt": self.alt,
            "url": self.url,
        }


class UnknownImage(NotFound):
    def __init__(self, sku: str, image_id: str) -> None:
        super().__init__("image", image_id, message=f"no image {image_id!r} of {sku!r}")


def numbered(images: Sequence[ProductImage]) -> list[ProductImage]:
    """``images`` in the order given, at positions 1, 2, 3, ..."""
    return [replace(image, position=n) for n, image in enumerate(images, start=1)]


def without(images: Sequence[ProductImage], sku: str, image_id: str) -> list[ProductImage]:
    """The images left when ``image_id`` is removed, numbered again from 1."""
    if all(image.id != image_id for image in images):
        raise UnknownImage(sku, image_id)
    return numbered([image for image in images if image.id != image_id])


def arranged(images: Sequence[ProductImage], order: Sequence[str]) -> list[ProductImage]:
    """The images in ``order`` (every image id of the product once), numbered from 1."""
    by_id = {image.id: image for image in images}
    if len(order) != len(set(order)) or set(order) != set(by_id):
        missing = sorted(set(by_id) - set(order))
        unknown = sorted(set(order) - set(by_id))
        raise Invalid(
            "name every image of the product once"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; unknown: {', '.join(unknown)}" if unknown else ""),
            field=("image_ids",),
        )
    return numbered([by_id[image_id] for image_id in order])
