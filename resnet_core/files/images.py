"""Picture files and pixel arrays -> uint8 pixels: the formats read, EXIF rotation, 16-bit grey, and
pictures too large to open (a small file can unpack to billions of pixels)."""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_IMAGE_PIXELS = 4096 * 4096
IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "BMP")


class InvalidImage(ValueError):
    """The uploaded file (or array) is not an image this project can read."""


def load_image(data: bytes) -> np.ndarray:
    """An uploaded PNG/JPEG/GIF/BMP file's bytes -> (H, W, 4) uint8 RGBA, upright as its EXIF says.

    16-bit greys are scaled to 8 bits. Raises InvalidImage, also for more than MAX_IMAGE_PIXELS.
    """
    if not data:
        raise InvalidImage("The file is empty.")
    try:
        # Pillow warns above 89 million pixels and refuses above 179 million; this limit is lower, and
        # says what to do. (catch_warnings is process-wide: another thread's bomb warning is lost meanwhile.)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
    except Image.DecompressionBombError:
        raise InvalidImage(_too_large("far larger than")) from None
    except (UnidentifiedImageError, OSError, ValueError):
        formats = f"{', '.join(IMAGE_FORMATS[:-1])} or {IMAGE_FORMATS[-1]}"
        raise InvalidImage(f"This file is not a {formats} image: save the digit in one of those formats.") from None
    width, height = picture.size
    if width * height > MAX_IMAGE_PIXELS:
        raise InvalidImage(_too_large(f"{width}x{height} pixels, over"))
    try:
        picture.load()
        picture = ImageOps.exif_transpose(picture)
    except Image.DecompressionBombError:
        raise InvalidImage(_too_large("far larger than")) from None
    except (OSError, ValueError, SyntaxError, KeyError, TypeError):
        raise InvalidImage("The image file is damaged or truncated: save it again and retry.") from None
    if picture.mode.startswith("I"):  # 16-bit grey (Pillow's "I;16" or "I"): 0..65535 -> 0..255
        grey = np.clip(np.rint(np.asarray(picture, np.float64) / 257), 0, 255).astype(np.uint8)
        return np.dstack([grey, grey, grey, np.full_like(grey, 255)])
    return np.asarray(picture.convert("RGBA"))


def _too_large(how: str) -> str:
    return f"The image is {how} the limit of {MAX_IMAGE_PIXELS:,} pixels: scale it down or crop it to the digit."


def as_pixels(image: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 3) or (H, W, 4) pixels -> the same as uint8: uint8 as it is; bool, floats in [0, 1]
    (matplotlib's convention) and integers in 0..255 scaled or cast. InvalidImage for anything else."""
    image = np.asarray(image)
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)) or min(image.shape[:2]) < 1:
        raise InvalidImage(f"Expected an (H, W), (H, W, 3) or (H, W, 4) image, got shape {image.shape}.")
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.bool_:
        return image.astype(np.uint8) * 255
    if np.issubdtype(image.dtype, np.floating):
        if not np.isfinite(image).all():
            raise InvalidImage("The image has NaN or infinite pixels: give every pixel a value between 0 and 1.")
        if image.min() < 0 or image.max() > 1:
            raise InvalidImage(
                f"Float pixels must lie between 0 and 1, these run from {image.min():g} to {image.max():g}: "
                "divide by 255, or pass uint8 pixels."
            )
        return np.rint(image * 255).astype(np.uint8)
    if not np.issubdtype(image.dtype, np.integer):
        raise InvalidImage(f"Pixels must be numbers, uint8 (0..255) or float (0..1), not {image.dtype}.")
    if image.min() < 0 or image.max() > 255:
        raise InvalidImage(
            f"Integer pixels must lie between 0 and 255, these run from {image.min()} to {image.max()}: "
            "scale them to 8 bits."
        )
    return image.astype(np.uint8)
