"""Equal-size thumbnails for a strip of pictures of different shapes (the Draw page's preparation steps)."""

from __future__ import annotations

import numpy as np
from PIL import Image

MARGIN_GREY = 64  # the padding around a picture that is not square: darker than paper, lighter than the black canvas


def square_thumbnail(picture: np.ndarray, side: int = 120) -> np.ndarray:
    """A (H, W) uint8 picture fitted into a side × side square, centred on grey.

    Enlarged pictures keep their pixels square and sharp (nearest neighbour): a 28×28 input
    should look like 28×28 pixels, not a blur. Shrunk pictures are averaged.
    """
    h, w = picture.shape[:2]
    scale = side / max(h, w)
    size = max(1, round(w * scale)), max(1, round(h * scale))
    resample = Image.Resampling.NEAREST if scale >= 1 else Image.Resampling.BOX
    fitted = np.asarray(Image.fromarray(picture).resize(size, resample))
    square = np.full((side, side), MARGIN_GREY, np.uint8)
    top, left = (side - size[1]) // 2, (side - size[0]) // 2
    square[top : top + size[1], left : left + size[0]] = fitted
    return square
