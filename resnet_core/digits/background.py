"""The paper behind the ink: grey levels as a viewer shows them, which side is ink, the paper's local
brightness, and the noise the ink has to stand out from.

Photos are neither white nor evenly lit, and the camera adds noise. The ink is what stands out
from the paper's *local* brightness (a large morphological opening, which keeps the light's
gradients and shadows but not strokes); the noise is the median absolute deviation of what is
left, against which digits.preprocess gates the ink.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from resnet_core.files.images import as_pixels

INK_THRESHOLD = 0.1 * 255  # weaker than this is paper, not ink
OPENING_CELLS = 24, 9  # the background is sampled on a grid of 1/24 of the shorter side, opened over 9x9 cells


def grey_levels(image: np.ndarray) -> np.ndarray:
    """(H, W[, 3 or 4]) pixels -> (H, W) float32 grey levels 0..255, as a viewer shows them (or the alpha)."""
    pixels = as_pixels(image).astype(np.float32)
    grey = pixels if pixels.ndim == 2 else pixels[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
    if pixels.ndim == 3 and pixels.shape[2] == 4 and pixels[..., 3].min() < 255:
        alpha = pixels[..., 3] / 255
        visible = grey[alpha >= alpha.max() / 2]  # the more opaque pixels, whose colour rounding has not spoilt
        if alpha.max() == 0 or np.ptp(visible) < INK_THRESHOLD:
            # A drawing on a transparent canvas: its one colour says nothing, where it is opaque is the ink.
            return pixels[..., 3]
        grey = grey * alpha + 255 * (1 - alpha)  # a picture with see-through parts, seen on white as viewers show it
    return grey


def ink_side_up(grey: np.ndarray) -> np.ndarray:
    """(H, W) grey levels -> the same with the ink light and the paper dark."""
    # The paper is most of the picture, so the median is paper. Ink on light paper is dark (a page's
    # lit patches are not ink); on dark paper it is the side that reaches farther from the paper.
    median = float(np.median(grey))
    low, high = np.percentile(grey, [0.5, 99.5])
    dark_ink = median > 127.5 or median - low > high - median
    return 255 - grey if dark_ink else grey


def local_background(grey: np.ndarray) -> np.ndarray:
    """(H, W) float32, ink light -> the paper's brightness under it: the strokes opened away, the light's shape kept.

    A grey-level opening (a minimum, then a maximum, over a window 3/8 of the picture's
    shorter side) removes anything narrower than the window, which strokes are, and keeps
    gradients and broad shadows. It runs on a coarse grid (each cell's lower quartile, which
    a cell only partly covered by ink still gives as paper) and is smoothed back up. The grid
    is extended past the edges by odd reflection, so that light falling off towards an edge
    carries on falling instead of being cut flat by the window.
    """
    h, w = grey.shape
    per_side, window = OPENING_CELLS
    cell = max(1, min(h, w) // per_side)
    padded = np.pad(grey, ((0, -h % cell), (0, -w % cell)), mode="edge")
    rows, cols = padded.shape[0] // cell, padded.shape[1] // cell
    cells = padded.reshape(rows, cell, cols, cell).transpose(0, 2, 1, 3).reshape(rows, cols, cell * cell)
    quartile = np.partition(cells, cell * cell // 4, axis=2)[..., cell * cell // 4]
    # Cells per side that the minimum and the maximum (half a window each) and the 3x3 smoothing use up,
    # and one more to upsample the edge from.
    margin = (window - 1) + 1 + 1
    coarse = torch.from_numpy(_extend(quartile, margin))[None, None]
    opened = F.max_pool2d(-F.max_pool2d(-coarse, window, stride=1), window, stride=1)
    smooth = F.avg_pool2d(opened, 3, stride=1)  # (rows + 2, cols + 2): a cell beyond each edge
    full = F.interpolate(smooth, scale_factor=cell, mode="bilinear", align_corners=False)
    return full[0, 0, cell : cell + h, cell : cell + w].numpy()


def _extend(grid: np.ndarray, margin: int) -> np.ndarray:
    # Odd reflection, so that a ramp carries on, as far as the grid reaches; past that, the edge's value.
    # Never below the grid's minimum: odd reflection turns ink near an edge into a deep pit beyond it,
    # which an opening would keep.
    reach = [min(margin, n - 1) for n in grid.shape]
    extended = np.pad(grid, [(r, r) for r in reach], mode="reflect", reflect_type="odd")
    extended = np.pad(extended, [(margin - r, margin - r) for r in reach], mode="edge")
    return np.maximum(extended, grid.min())


def ink_and_noise(grey: np.ndarray) -> tuple[np.ndarray, float]:
    """(H, W) grey levels, ink light -> ((H, W) ink in [0, 255] over the local paper, the noise's deviation)."""
    # The opening sits a little under the paper (a quartile, a minimum); the paper's own median is the zero.
    residual = grey - local_background(grey)
    residual -= np.median(residual)
    noise = 1.4826 * float(np.median(np.abs(residual)))  # the MAD: the ink, a minority of pixels, barely moves it
    return np.clip(residual, 0, 255), noise


def ink_intensity(image: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 3) or (H, W, 4) pixels -> (H, W) float32 ink in [0, 255], paper ~0.

    The ink is what differs from the paper, light on dark or dark on light, measured from the
    paper's local brightness so that uneven light and shadows are not ink. Transparency is the
    ink when the visible pixels are all one colour (a drawing on a transparent canvas);
    otherwise the picture is seen on white. uint8 pixels, or floats in [0, 1].
    """
    return ink_and_noise(ink_side_up(grey_levels(image)))[0]
