"""Product images: which image of a product is which, and in what order.

The bytes are kept elsewhere (a blob store); an image here is the registration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ProductImage:
    id: str
    """The id of its bytes in the blob store."""
    sku: str
    position: int
    """1 = the first image (upload order)."""
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
