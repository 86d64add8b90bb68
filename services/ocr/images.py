"""Checking and decoding uploaded images before any pixel is decoded in full.

The format is taken from the file's first bytes, the size from its header: a decompression bomb
(20000 x 20000 pixels in a few kilobytes) is refused before Pillow allocates it, and a truncated file
is refused instead of being read half.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from common.errors import ProblemError

ImageFile.LOAD_TRUNCATED_IMAGES = False
ACCEPTED = "PNG, JPEG or WebP"


def sniff_format(data: bytes) -> str | None:
    """PNG, JPEG, WEBP, GIF or None from the magic bytes."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    return None


def decode_image(data: bytes, max_pixels: int, max_side: int) -> np.ndarray:
    """The upload as an RGB array (downscaled past ``max_side``); a 4xx problem for anything else."""
    kind = sniff_format(data)
    if kind == "GIF":
        raise ProblemError(415, f"GIF images are not supported; upload a {ACCEPTED} screenshot.")
    if kind is None:
        raise ProblemError(415, f"The upload is not an image this service reads; upload a {ACCEPTED} file.")
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[kind])
            width, height = image.size
            if width * height > max_pixels:
                raise ProblemError(413, f"The image is {width}x{height} pixels; the limit is {max_pixels:,} pixels.")
            if width < 16 or height < 16:
                raise ProblemError(422, f"The image is only {width}x{height} pixels; too small to hold a result screen.")
            image.load()
    except ProblemError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ProblemError(413, f"The image has too many pixels (limit {max_pixels:,}).") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ProblemError(400, f"The {kind} file is truncated or corrupt and cannot be decoded.") from exc
    if image.mode not in ("RGB", "L"):
        # Transparent screenshots: put them on white, as a viewer shows them.
        image = image.convert("RGBA")
        canvas = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(canvas, image)
    image = image.convert("RGB")
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.LANCZOS)
    return np.asarray(image)
