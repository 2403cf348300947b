"""Phone-camera photos of MNIST digits written on paper, for measuring how well uploads are read.

A real test digit becomes dark ink on tinted paper under uneven light, with a soft
shadow, sensor noise, a little blur, JPEG compression and an EXIF orientation tag:
what a photo of a handwritten digit looks like, with a label known to be right.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter

ORIENTATION_TAG = 0x0112  # EXIF's orientation
# The stored pixels for each orientation: the upright picture turned so that a viewer that
# honours the tag (PIL.ImageOps.exif_transpose) turns it back upright.
STORED_TURN = {1: None, 3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}
MNIST_BOX = 20 / 28  # the share of an MNIST frame its digit's box fills


def photo_of_digit(digit: np.ndarray, rng: np.random.Generator) -> bytes:
    """An MNIST digit (28, 28) uint8, white on black -> the bytes of a JPEG photo of it in dark ink on paper.

    The photo is 240 to 480 px a side; the digit's box is 30-70% of the shorter side, placed
    anywhere it fits. Paper tint, ink colour and strength, a linear or radial light gradient,
    a soft shadow, noise (sigma 2-8 grey levels), blur, JPEG quality (60-90) and the EXIF
    orientation (1, 3, 6 or 8, with the pixels turned to match) are drawn from `rng`.
    """
    digit = np.asarray(digit)
    if digit.shape != (28, 28) or digit.dtype != np.uint8:
        raise ValueError(f"Expected an MNIST digit of shape (28, 28) uint8, got {digit.shape} {digit.dtype}.")
    height, width = (int(n) for n in rng.integers(240, 481, size=2))
    frame = round(rng.uniform(0.3, 0.7) * min(height, width) / MNIST_BOX)
    top, left = (int(rng.integers(0, n - frame + 1)) for n in (height, width))
    coverage = np.zeros((height, width), np.float32)
    scaled = Image.fromarray(digit).resize((frame, frame), Image.Resampling.BILINEAR)
    coverage[top : top + frame, left : left + frame] = np.asarray(scaled, np.float32) / 255
    return _photograph(coverage, rng)


def photo_of_paper(rng: np.random.Generator, height: int = 360, width: int = 300) -> bytes:
    """The bytes of a JPEG photo of blank paper, under the same light and noise as photo_of_digit's."""
    return _photograph(np.zeros((height, width), np.float32), rng)


def _photograph(coverage: np.ndarray, rng: np.random.Generator) -> bytes:
    # Reflectance (what the paper and ink are) times illumination (the light on them), as a camera sees it.
    height, width = coverage.shape
    paper = rng.uniform(0.78, 0.97) * (1 + rng.uniform(-0.05, 0.05, size=3))
    ink = rng.uniform(0.05, 0.3) * (1 + rng.uniform(-0.3, 0.3, size=3))  # black, blue-black or brown-black
    strength = rng.uniform(0.75, 1.0)  # pressure: how fully the ink covers where the digit is
    share = (strength * coverage)[..., None]
    reflectance = paper * (1 - share) + ink * share
    light = _illumination(height, width, rng)
    pixels = 255 * reflectance * light[..., None] + rng.normal(0, rng.uniform(2, 8), size=(height, width, 3))
    picture = Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8))
    picture = picture.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
    orientation = int(rng.choice(list(STORED_TURN)))
    if STORED_TURN[orientation] is not None:
        picture = picture.transpose(STORED_TURN[orientation])
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = orientation
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=int(rng.integers(60, 91)), exif=exif)
    return buffer.getvalue()


def _illumination(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    # (H, W) light, about 0.5-1.1: an exposure, a gradient (a window to one side, or a lamp
    # overhead) and the soft-edged shadow of a hand or phone across part of the page.
    rows, cols = np.indices((height, width), dtype=np.float32)
    rows, cols = rows / max(height, width), cols / max(height, width)
    if rng.random() < 0.5:
        angle = rng.uniform(0, 2 * np.pi)
        along = np.cos(angle) * (cols - cols.mean()) + np.sin(angle) * (rows - rows.mean())
        light = 1 + rng.uniform(0.2, 0.5) * along
    else:
        centre_row, centre_col = rng.uniform(0, 1, size=2) * (rows.max(), cols.max())
        light = 1 - rng.uniform(0.2, 0.45) * ((rows - centre_row) ** 2 + (cols - centre_col) ** 2) / 2
    angle, offset, softness = rng.uniform(0, 2 * np.pi), rng.uniform(0.3, 0.7), rng.uniform(0.05, 0.15)
    across = np.cos(angle) * (cols - offset) + np.sin(angle) * (rows - offset)
    shadow = rng.uniform(0, 0.3) / (1 + np.exp(-across / softness))
    return rng.uniform(0.8, 1.05) * light * (1 - shadow)
