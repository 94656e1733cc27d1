"""Which image bytes Kontor accepts: JPEG, PNG and WebP, told by their magic numbers.

The file name and the client's Content-Type say nothing reliable; the first bytes do.
Shared by the catalog (product images) and orders (complaint photos).
"""

from __future__ import annotations

#: 5 MiB per image.
MAX_IMAGE_BYTES = 5 * 1024 * 1024

IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")


def sniff_image_type(head: bytes) -> str | None:
    """The media type of an image from its first bytes, or None if not JPEG/PNG/WebP."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None
