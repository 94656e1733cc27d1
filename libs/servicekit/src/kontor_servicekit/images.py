"""Which image bytes Kontor accepts: JPEG, PNG and WebP that decode, re-encoded.

The file name and the client's Content-Type say nothing reliable, and neither do the
first bytes alone: a PNG signature followed by HTML, or 15 bytes that start like a
PNG, are no image. :func:`decode_image` decodes the whole image with Pillow and
refuses what does not decode, what is not JPEG/PNG/WebP by its decoder, and what has
more than :data:`MAX_IMAGE_PIXELS` pixels (a decompression bomb: a small file that
decodes to gigabytes; the dimensions are read from the header, before any pixel is
decoded). What is kept is a re-encoded copy in the same format, made from the decoded
pixels only: no metadata (EXIF with GPS position and camera serial, XMP, comments),
no trailing bytes, nothing a browser could read as something else.

Shared by the catalog (product images) and orders (complaint photos).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

#: 5 MiB per image.
MAX_IMAGE_BYTES = 5 * 1024 * 1024

#: 40 megapixels (e.g. 8000 x 5000), more than any product or phone photo; decoded as
#: RGBA at most 160 MB.
MAX_IMAGE_PIXELS = 40_000_000

IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")

_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
#: What Pillow calls a JPEG it read: phones write MPO (a JPEG with more pictures appended).
_AS_FORMAT = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}
_MODES = {
    "JPEG": ("L", "RGB", "CMYK"),
    "PNG": ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"),
    "WEBP": ("RGB", "RGBA"),
}


class NotAnImage(ValueError):
    """The bytes are not an accepted image; the message says why, for the client."""


@dataclass(frozen=True)
class DecodedImage:
    data: bytes
    """The re-encoded image (what is stored and served)."""
    content_type: str
    width: int
    height: int


def sniff_image_type(head: bytes) -> str | None:
    """The media type an image's first bytes claim, or None if not JPEG/PNG/WebP.

    A claim only: :func:`decode_image` decides.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def decode_image(data: bytes, *, max_pixels: int = MAX_IMAGE_PIXELS) -> DecodedImage:
    """``data`` decoded and re-encoded, or :class:`NotAnImage`."""
    if sniff_image_type(data[:16]) is None:
        raise NotAnImage("not a JPEG, PNG or WebP image (judged by its content)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # checked below
        try:
            with Image.open(io.BytesIO(data), formats=list(_FORMATS)) as probe:
                format_, (width, height) = _AS_FORMAT[str(probe.format)], probe.size
                if width * height > max_pixels:
                    raise NotAnImage(
                        f"the image has {width} x {height} pixels; at most {max_pixels} "
                        "are accepted"
                    )
                probe.verify()  # checksums and structure, without decoding
            with Image.open(io.BytesIO(data), formats=[format_]) as image:
                image.load()  # every pixel: a truncated or corrupt image fails here
                return _reencoded(image, format_, width, height)
        except NotAnImage:
            raise
        except Image.DecompressionBombError:
            raise NotAnImage(f"the image has more than {max_pixels} pixels") from None
        except Exception:  # whatever a decoder of untrusted bytes raises: a refusal
            # Which exception Pillow raises depends on the plugins it has loaded so far
            # (UnidentifiedImageError alone, OSError once others are in), so the answer
            # does not name it: the same bytes always get the same refusal.
            raise NotAnImage("not a JPEG, PNG or WebP image that decodes") from None


def _reencoded(image: Image.Image, format_: str, width: int, height: int) -> DecodedImage:
    frame = ImageOps.exif_transpose(image) if format_ == "JPEG" else image
    if frame.mode not in _MODES[format_]:
        frame = frame.convert(
            "RGBA" if "A" in frame.mode or "transparency" in frame.info else "RGB"
        )
        if format_ == "JPEG" and frame.mode == "RGBA":
            frame = frame.convert("RGB")
    transparency = frame.info.get("transparency")
    frame = frame.copy()
    frame.info = {}  # no comment, EXIF, XMP or ICC profile travels into the copy
    out = io.BytesIO()
    if format_ == "JPEG":
        frame.save(out, "JPEG", quality=90, optimize=True)
    elif format_ == "PNG":
        options = {"transparency": transparency} if transparency is not None else {}
        frame.save(out, "PNG", optimize=True, **options)
    else:
        frame.save(out, "WEBP", quality=90)
    return DecodedImage(out.getvalue(), _FORMATS[format_], frame.width, frame.height)
