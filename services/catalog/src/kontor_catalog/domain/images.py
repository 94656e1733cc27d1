"""Which image bytes the catalog accepts: the kit's rule (JPEG, PNG, WebP by magic numbers)."""

from kontor_servicekit.images import MAX_IMAGE_BYTES, sniff_image_type

__all__ = ["MAX_IMAGE_BYTES", "sniff_image_type"]
