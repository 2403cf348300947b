"""Turning a drawing or an uploaded picture into the 28x28 input MNIST was made of, and predicting its digit.

MNIST's recipe (LeCun et al.): crop to the ink, scale the longer side to 20 px
with antialiasing, and place the result in 28x28 so that the ink's centre of
mass sits at the centre. A drawing prepared any other way looks unlike every
training digit, and the model's answer shows it.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError
from torch import Tensor, nn

from resnet_core.augment import normalize
from resnet_core.models import for_inference
from resnet_core.predictor import Predictor  # noqa: F401 - its old home; import it from here still works

SIZE = 28
BOX = 20  # MNIST's digits fill a 20x20 box inside the 28x28 frame
# Measured on MNIST's test set: the mass centre averages (13.99, 14.01) in pixel indices.
CENTRE = 14.0
INK_THRESHOLD = 0.1 * 255  # weaker than this is paper, not ink
MAX_IMAGE_PIXELS = 4096 * 4096
IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "BMP")


class EmptyDrawing(ValueError):
    """There is no ink to classify."""


class InvalidImage(ValueError):
    """The uploaded file is not an image this project can read."""


@dataclass
class Preprocessed:
    tensor: Tensor  # (1, 1, 28, 28) float, normalised like the training data
    steps: OrderedDict[str, np.ndarray]  # step name -> (H, W) uint8, white ink on black


def ink_intensity(image: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 3) or (H, W, 4) uint8 -> (H, W) float32 ink in [0, 255], background ~0.

    Transparency, if the image has any, is the ink; otherwise the ink is whatever
    differs from the background (the border's median), light on dark or dark on light.
    """
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)) or min(image.shape[:2]) < 1:
        raise InvalidImage(f"Expected an (H, W), (H, W, 3) or (H, W, 4) image, got shape {image.shape}.")
    pixels = image.astype(np.float32)
    if pixels.ndim == 3 and pixels.shape[2] == 4 and pixels[..., 3].min() < 255:
        return pixels[..., 3]
    luminance = pixels if pixels.ndim == 2 else pixels[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
    border = np.concatenate([luminance[0], luminance[-1], luminance[:, 0], luminance[:, -1]])
    background = float(np.median(border))
    ink = background - luminance if background > 127 else luminance - background
    return np.clip(ink, 0, 255)


def _to_uint8(a: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


def _centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    total = img.sum()
    rows, cols = np.indices(img.shape)
    return float((rows * img).sum() / total), float((cols * img).sum() / total)


def _paste(frame: np.ndarray, patch: np.ndarray, top: int, left: int) -> None:
    # Clipped at the frame's edges: what falls outside is dropped, nothing wraps round.
    h, w = patch.shape
    t0, l0 = max(top, 0), max(left, 0)
    t1, l1 = min(top + h, frame.shape[0]), min(left + w, frame.shape[1])
    if t0 < t1 and l0 < l1:
        frame[t0:t1, l0:l1] = patch[t0 - top : t1 - top, l0 - left : l1 - left]


def preprocess_canvas(image: np.ndarray) -> Preprocessed:
    """A drawing (H, W, 4) RGBA uint8 (or RGB, or grey) -> the model's (1, 1, 28, 28) input, with each step.

    Raises EmptyDrawing when nothing is drawn.
    """
    ink = ink_intensity(np.asarray(image))
    if ink.max() < INK_THRESHOLD:
        raise EmptyDrawing("The canvas is empty: draw a digit, then try again.")
    ink = ink * (255.0 / ink.max())  # faint pencil counts as much as bold marker
    rows = np.flatnonzero((ink >= INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((ink >= INK_THRESHOLD).any(axis=0))
    cropped = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]

    h, w = cropped.shape
    scale = BOX / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    scaled = (
        F.interpolate(
            torch.from_numpy(np.ascontiguousarray(cropped))[None, None],
            size=(new_h, new_w),
            mode="bilinear",
            antialias=True,
            align_corners=False,
        )[0, 0]
        .clamp_(0, 255)
        .numpy()
    )

    frame = np.zeros((SIZE, SIZE), np.float32)
    com_row, com_col = _centre_of_mass(scaled)
    _paste(frame, scaled, round(CENTRE - com_row), round(CENTRE - com_col))

    tensor = normalize(torch.from_numpy(frame / 255.0).float())[None, None]
    steps = OrderedDict(
        [
            ("ink", _to_uint8(ink)),
            ("cropped", _to_uint8(cropped)),
            ("scaled to 20 px", _to_uint8(scaled)),
            ("centred 28x28", _to_uint8(frame)),
        ]
    )
    return Preprocessed(tensor=tensor, steps=steps)


def load_image(data: bytes) -> np.ndarray:
    """An uploaded PNG/JPEG/GIF/BMP file's bytes -> (H, W, 4) uint8 RGBA. Raises InvalidImage."""
    if not data:
        raise InvalidImage("The file is empty.")
    try:
        picture = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
    except Image.DecompressionBombError:  # Pillow refuses a header claiming over ~179 million pixels
        raise InvalidImage(_too_large("far larger than")) from None
    except (UnidentifiedImageError, OSError, ValueError):
        formats = f"{', '.join(IMAGE_FORMATS[:-1])} or {IMAGE_FORMATS[-1]}"
        raise InvalidImage(f"This file is not a {formats} image: save the digit in one of those formats.") from None
    width, height = picture.size
    if width * height > MAX_IMAGE_PIXELS:
        raise InvalidImage(_too_large(f"{width}x{height} pixels, over"))
    try:
        picture.load()
        return np.asarray(picture.convert("RGBA"))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise InvalidImage("The image file is damaged or truncated: save it again and retry.") from None


def _too_large(how: str) -> str:
    return f"The image is {how} the limit of {MAX_IMAGE_PIXELS:,} pixels: scale it down or crop it to the digit."


def preprocess_image(data: bytes) -> Preprocessed:
    """An uploaded image file -> the model's input, by the same steps as a drawing."""
    return preprocess_canvas(load_image(data))


def predict(model: nn.Module, x: Tensor) -> Tensor:
    """Class probabilities (N, num_classes) on the CPU for input (N, 1, 28, 28) on any device.

    The model is not changed: one in training mode is run as an eval-mode copy.
    """
    model = for_inference(model)
    with torch.inference_mode():
        logits = model(x.to(next(model.parameters()).device))
    return torch.softmax(logits.float(), dim=1).cpu()
