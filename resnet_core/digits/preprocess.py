"""A drawing or an uploaded picture -> the 28x28 input MNIST was made of, with each step to show.

MNIST's recipe (LeCun et al.): crop to the ink, scale the longer side to 20 px
with antialiasing, and place the result in 28x28 so that the ink's centre of
mass sits at the centre. A drawing prepared any other way looks unlike every
training digit, and the model's answer shows it.

Photos need more before that recipe (digits.background): the ink must stand out
from the paper's local brightness by more than the noise (a multiple of its median
absolute deviation), and specks smaller than a pen could make are dropped. A
picture whose ink is only a dot, or only noise, holds no digit (NoDigitFound).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from resnet_core.data.augment import normalize
from resnet_core.digits.background import INK_THRESHOLD, grey_levels, ink_and_noise, ink_side_up
from resnet_core.files.images import load_image

SIZE = 28
BOX = 20  # MNIST's digits fill a 20x20 box inside the 28x28 frame
# Measured on MNIST's test set: the mass centre averages (13.99, 14.01) in pixel indices.
CENTRE = 14.0
NOISE_GATE = 4.0  # ink stands out from the paper by this many noise deviations; Gaussian noise does once in 30,000
NOISE_FLOOR = 2.0  # and this many come off all of it: most of the paper's grain goes, strokes barely thin
NOISE_PEAK = 6.0  # with it photo_digits' 28x28 strokes are as bold as the canvas's (mean pixel 30.9 and 30.7)
WORK_PIXELS = 640 * 640  # larger pictures are shrunk to this first: the digit ends up 20 px tall anyway
SPECK = 0.015  # a mark narrower than this share of the picture's size (sqrt(H*W)) is a speck: 4 px on the canvas
MIN_DIGIT_EXTENT = 0.1  # ink spanning less than this share of the picture's size is a dot, not a digit
MIN_LARGEST_MARK = 0.25  # when the largest mark holds less of the ink than this, the ink is scattered like noise
STEP_SIDE = 280  # the longest a step image gets, in pixels
STEP_ASPECT = 4  # and the most elongated: thinner steps are padded with background


class EmptyDrawing(ValueError):
    """There is no ink to classify."""


class NoDigitFound(EmptyDrawing):
    """There is ink, but it is a dot or noise, not a digit."""


# A digit smaller than this share of the canvas, drawn with the Draw page's default 20 px pen on its 280 px
# canvas, is read right much less often: 52 of 60 one-stroke test digits at 100 px, 37 at 80 px, 60 at 140 px.
SMALL_DIGIT = 0.45


@dataclass
class Preprocessed:
    tensor: Tensor  # (1, 1, 28, 28) float, normalised like the training data
    steps: OrderedDict[str, np.ndarray]  # step name -> (H, W) uint8, white ink on black, at most 280 px and 4:1
    # The digit's longer side over the picture's: a digit drawn small with a wide pen is enlarged into thick
    # strokes MNIST never has (below SMALL_DIGIT the starter ResNet-20 reads markedly worse: docs/reliability.md).
    digit_size: float = 1.0


def _shrink(grey: np.ndarray) -> np.ndarray:
    h, w = grey.shape
    if h * w <= WORK_PIXELS:
        return grey
    factor = (WORK_PIXELS / (h * w)) ** 0.5
    size = max(1, round(h * factor)), max(1, round(w * factor))
    return F.interpolate(torch.from_numpy(grey)[None, None], size=size, mode="area")[0, 0].numpy()


def _marks(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(H, W) bool -> each pixel's mark (8-connected part), -1 off the mask, and each mark's area in pixels."""
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    n = len(ys)
    index = np.full((h + 2, w + 2), n)  # n: no pixel there
    index[ys + 1, xs + 1] = np.arange(n)
    neighbours = [index[ys + 1 + dy, xs + 1 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]
    label = np.arange(n + 1)
    while True:  # each mark takes its smallest pixel number: hook onto the smallest neighbour, then follow the links
        hooked = label.copy()
        for neighbour in neighbours:
            np.minimum(hooked[:n], label[neighbour], out=hooked[:n])
        while not np.array_equal(hooked[hooked], hooked):
            hooked = hooked[hooked]
        if np.array_equal(hooked, label):
            break
        label = hooked
    _, marks, areas = np.unique(label[:n], return_inverse=True, return_counts=True)
    numbered = np.full((h, w), -1, np.int64)
    numbered[ys, xs] = marks
    return numbered, areas


def _find_digit(strong: np.ndarray) -> np.ndarray:
    """(H, W) bool, the ink that stands out from the noise -> (H, W) bool, the marks that make the digit.

    Specks are dropped. Raises NoDigitFound when nothing is left, when what is left is
    scattered like noise, or when it spans too little of the picture to be a digit.
    """
    size = (strong.shape[0] * strong.shape[1]) ** 0.5
    marks, areas = _marks(strong)
    kept = areas >= (SPECK * size) ** 2
    if not kept.any():
        raise NoDigitFound(
            "No digit found: there are only specks, no stronger than the paper's grain or the camera's noise. "
            "Write the digit darker and larger, or photograph it in better light."
        )
    if areas[kept].max() < MIN_LARGEST_MARK * areas[kept].sum():
        raise NoDigitFound(
            f"No digit found: the ink is {kept.sum()} small marks scattered over the picture, like noise. "
            "Upload a picture of one digit on plain paper."
        )
    digit = (marks >= 0) & kept[np.maximum(marks, 0)]
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    extent = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1
    if extent < MIN_DIGIT_EXTENT * size:
        raise NoDigitFound(
            f"No digit found: the only mark is {extent} px across, too small for a digit in a picture this size "
            "(a dot?). Draw the digit larger, or crop the picture closer to it."
        )
    return digit


def _to_uint8(a: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


def _step_image(a: np.ndarray) -> np.ndarray:
    """(H, W) -> (H', W') uint8 an image widget can show: at most STEP_SIDE px and STEP_ASPECT:1, at least 1x1."""
    h, w = a.shape
    if max(h, w) > STEP_SIDE:
        size = max(1, round(h * STEP_SIDE / max(h, w))), max(1, round(w * STEP_SIDE / max(h, w)))
        a = F.interpolate(torch.from_numpy(a.astype(np.float32))[None, None], size=size, mode="area")[0, 0].numpy()
        h, w = a.shape
    pad_h, pad_w = max(0, -(-w // STEP_ASPECT) - h), max(0, -(-h // STEP_ASPECT) - w)
    a = np.pad(a, ((pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2)))
    return _to_uint8(a)


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
    """A drawing or photo (H, W, 4) RGBA (or RGB, or grey), uint8 or float in [0, 1] -> the model's
    (1, 1, 28, 28) input, with each step.

    Raises EmptyDrawing when nothing is drawn, NoDigitFound (an EmptyDrawing) when the ink is
    a dot or noise, InvalidImage for an array that is not an image.
    """
    grey = ink_side_up(_shrink(grey_levels(image)))
    ink, noise = ink_and_noise(grey)
    if ink.max() < INK_THRESHOLD:
        raise EmptyDrawing("The canvas is empty: draw a digit, then try again.")
    strong = ink >= max(INK_THRESHOLD, NOISE_GATE * noise)
    digit = _find_digit(strong)
    ink = np.where(strong & ~digit, 0, np.maximum(ink - NOISE_FLOOR * noise, 0))  # specks out, and the paper's grain
    # Full strength, which faint pencil gets as much as bold marker, is the brightest ink less the noise's lift:
    # the brightest of thousands of stroke pixels sits several deviations above the stroke.
    full = max(ink.max() - NOISE_PEAK * noise, ink.max() / 2)
    ink = np.minimum(ink * (255.0 / full), 255)
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    cropped = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]

    h, w = cropped.shape
    scale = BOX / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    scaled = (
        F.interpolate(
            torch.from_numpy(np.ascontiguousarray(cropped, np.float32))[None, None],
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
            ("picture", _step_image(grey)),
            ("ink", _step_image(ink)),
            ("cropped", _step_image(cropped)),
            ("scaled to 20 px", _step_image(scaled)),
            ("centred 28x28", _to_uint8(frame)),
        ]
    )
    return Preprocessed(tensor=tensor, steps=steps, digit_size=max(h, w) / max(grey.shape))


def preprocess_image(data: bytes) -> Preprocessed:
    """An uploaded image file -> the model's input, by the same steps as a drawing.

    Raises InvalidImage, EmptyDrawing for a blank picture, NoDigitFound for a dot or noise.
    """
    try:
        return preprocess_canvas(load_image(data))
    except NoDigitFound:
        raise
    except EmptyDrawing:
        raise EmptyDrawing("The picture is blank: there is no digit in it to read.") from None
