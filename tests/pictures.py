"""Pictures for the digit-reading tests: a drawn stroke, and image files encoded in memory."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from tests.conftest import CANVAS


def stroke_canvas() -> np.ndarray:
    """A "1" with a flag, 160 px tall, white on the black (CANVAS, CANVAS) canvas, off to the left of centre."""
    canvas = np.zeros((CANVAS, CANVAS), np.uint8)
    canvas[60:220, 130:150] = 255
    canvas[60:80, 110:150] = 255
    return canvas


def encoded(fmt: str, image: Image.Image) -> bytes:
    """The image as the bytes of a file in `fmt` ("PNG", "JPEG", ...)."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()
